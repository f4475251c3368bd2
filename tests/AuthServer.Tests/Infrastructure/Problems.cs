using System.Net;

namespace AuthServer.Tests.Infrastructure;

/// <summary>Checks an RFC 9457 problem details answer: status line, media type, and the body's status and title.</summary>
public static class Problems
{
    public const string MediaType = "application/problem+json";

    public static void ShouldBeProblem(this Protocol.Answer answer, HttpStatusCode status, string? title = null)
    {
        answer.Status.ShouldBe(status, $"body: {answer.Json}");
        answer.Response.Content.Headers.ContentType?.MediaType.ShouldBe(MediaType);
        answer.Json.GetProperty("status").GetInt32().ShouldBe((int)status);
        if (title is not null) answer.Json.GetProperty("title").GetString().ShouldBe(title);
        else answer.Json.GetProperty("title").GetString().ShouldNotBeNullOrWhiteSpace();
    }
}
