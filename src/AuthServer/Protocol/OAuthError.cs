using System.Text.Json;

namespace AuthServer.Protocol;

/// <summary>
/// An error response of a protocol endpoint (RFC 6749 §5.2): a JSON object with <c>error</c> and
/// <c>error_description</c>, never cached.
/// </summary>
public sealed class OAuthError(string error, string description, int statusCode = StatusCodes.Status400BadRequest) : IResult
{
    public string Error { get; } = error;
    public string Description { get; } = description;
    public int StatusCode { get; } = statusCode;

    /// <summary>RFC 9449 §7.1: a DPoP proof that fails its checks.</summary>
    public static OAuthError InvalidDpopProof(string description) => new("invalid_dpop_proof", description);

    public static OAuthError InvalidRequest(string description) => new("invalid_request", description);
    public static OAuthError InvalidGrant(string description) => new("invalid_grant", description);

    /// <summary>
    /// RFC 6749 §5.2: <c>invalid_client</c> answers 401 with a <c>WWW-Authenticate</c> challenge for the scheme the
    /// client may use, here HTTP Basic (§2.3.1).
    /// </summary>
    public static OAuthError InvalidClient(string description) => new("invalid_client", description, StatusCodes.Status401Unauthorized);

    public async Task ExecuteAsync(HttpContext context)
    {
        var response = context.Response;
        response.StatusCode = StatusCode;
        ProtocolResponse.NoStore(response);
        if (StatusCode == StatusCodes.Status401Unauthorized)
            response.Headers.WWWAuthenticate = $"Basic realm=\"{context.Request.Host}\", error=\"{Error}\"";
        response.ContentType = "application/json;charset=UTF-8";

        await using var json = new Utf8JsonWriter(response.BodyWriter);
        json.WriteStartObject();
        json.WriteString("error"u8, Error);
        json.WriteString("error_description"u8, Description);
        json.WriteEndObject();
        await json.FlushAsync(context.RequestAborted);
    }

    public override string ToString() => $"{Error}: {Description}";
}

public static class ProtocolResponse
{
    /// <summary>Token responses carry credentials and must not be stored by any cache (RFC 6749 §5.1).</summary>
    public static void NoStore(HttpResponse response)
    {
        response.Headers.CacheControl = "no-store";
        response.Headers.Pragma = "no-cache";
    }
}
