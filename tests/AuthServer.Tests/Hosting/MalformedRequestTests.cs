using System.Net;
using System.Text;
using AuthServer.Tests.Infrastructure;

namespace AuthServer.Tests.Hosting;

/// <summary>
/// A body the server cannot read is the client's mistake: 400, never 500 with <c>server_error</c> or a stack trace.
/// Protocol endpoints answer in the RFC 6749 §5.2 style, pages with a friendly page or problem details (RFC 9457).
/// </summary>
public sealed class MalformedRequestTests(AuthServerFactory factory) : IClassFixture<AuthServerFactory>
{
    public static readonly TheoryData<string> Shapes = ["json", "nul in a value", "cut-off multipart", "multipart without boundary"];

    /// <summary>A body that is not a readable form, carrying <paramref name="fields"/> (already form-encoded) where it can.</summary>
    private static HttpContent Body(string shape, string fields = "client_id=demo-tv") => shape switch
    {
        "json" => new StringContent("""{"client_id":"demo-tv"}""", Encoding.UTF8, "application/json"),
        "nul in a value" => Form($"{fields}&device_name=Living%00room"),
        "cut-off multipart" => Multipart("multipart/form-data; boundary=XYZ",
            "--XYZ\r\nContent-Disposition: form-data; name=\"client_id\"\r\n\r\ndemo-tv"),
        "multipart without boundary" => Multipart("multipart/form-data", "client_id=demo-tv"),
        _ => throw new ArgumentOutOfRangeException(nameof(shape)),
    };

    private static StringContent Form(string encoded) => new(encoded, Encoding.UTF8, "application/x-www-form-urlencoded");

    private static StringContent Multipart(string contentType, string body)
    {
        var content = new StringContent(body, Encoding.UTF8);
        content.Headers.Remove("Content-Type");
        content.Headers.TryAddWithoutValidation("Content-Type", contentType);
        return content;
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public async Task The_end_session_endpoint_answers_a_400_page(string shape)
    {
        // RP-initiated logout is a page the user's browser is sent to: its errors are a page too.
        var response = await factory.CreateClient().PostAsync("/connect/endsession", Body(shape));

        response.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        response.Content.Headers.ContentType!.MediaType.ShouldBe("text/html");
        Browser.Result(await response.Content.ReadAsStringAsync()).ShouldNotBeNullOrWhiteSpace();
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public Task The_token_endpoint_answers_400_invalid_request(string shape) => ExpectInvalidRequestAsync("/connect/token", shape);

    [Theory]
    [MemberData(nameof(Shapes))]
    public Task The_device_authorization_endpoint_answers_400_invalid_request(string shape) => ExpectInvalidRequestAsync("/connect/device", shape);

    private async Task ExpectInvalidRequestAsync(string path, string shape)
    {
        var answer = await Infrastructure.Protocol.ReadAsync(await factory.CreateClient().PostAsync(path, Body(shape)));

        answer.Status.ShouldBe(HttpStatusCode.BadRequest, $"body: {answer.Json}");
        answer.Response.Content.Headers.ContentType!.MediaType.ShouldBe("application/json");
        answer.Error.ShouldBe("invalid_request");
        answer.Get("error_description").ShouldNotBeNullOrWhiteSpace();
        answer.Response.Headers.CacheControl!.NoStore.ShouldBeTrue();
    }

    [Fact]
    public async Task Json_sent_as_a_form_to_the_end_session_endpoint_is_read_as_the_form_it_is()
    {
        // It parses: one parameter named after the whole JSON text. Unknown parameters are ignored, so this is a
        // sign-out request without any, from a browser that is not signed in.
        var response = await factory.CreateBrowser().PostAsync("/connect/endsession", Form("""{"client_id":"web","a":[1,2]}"""));

        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        Browser.Result(await response.Content.ReadAsStringAsync()).ShouldBe("You are signed out.");
    }

    [Fact]
    public async Task A_field_name_with_an_unbalanced_bracket_on_the_login_page_is_a_friendly_400_page()
    {
        var browser = factory.CreateBrowser();
        var token = Browser.AntiforgeryToken(await browser.GetStringAsync("/Identity/Account/Login"));

        var response = await PostAsHtmlAsync(browser, "/Identity/Account/Login", $"a[=1&Input.Email=x%40example.com&__RequestVerificationToken={Uri.EscapeDataString(token)}");

        await ShouldBeFriendlyBadRequestAsync(response);
    }

    [Fact]
    public async Task A_field_name_with_an_unbalanced_bracket_on_the_verification_page_is_a_friendly_400_page()
    {
        var (browser, deviceCode, userCode, token) = await OnConsentPageAsync();

        var response = await PostAsHtmlAsync(browser, "/device?handler=Approve",
            $"Input[=1&Input.UserCode={userCode}&__RequestVerificationToken={Uri.EscapeDataString(token)}");

        await ShouldBeFriendlyBadRequestAsync(response);
        (await factory.CreateClient().PollAsync(deviceCode)).Error.ShouldBe("authorization_pending", "nothing was approved");
    }

    /// <summary>A signed-in browser on the consent page of a fresh request, with the page's antiforgery token.</summary>
    private async Task<(HttpClient Browser, string DeviceCode, string UserCode, string Token)> OnConsentPageAsync()
    {
        var started = await factory.CreateClient().StartAsync();
        var userCode = started.Get("user_code");
        var browser = factory.CreateBrowser();
        await browser.SignInAsync();
        return (browser, started.Get("device_code"), userCode, Browser.AntiforgeryToken(await browser.OpenVerificationAsync(userCode)));
    }

    [Fact]
    public async Task A_field_name_with_an_unbalanced_bracket_is_400_problem_details_for_a_client_that_does_not_want_html()
    {
        var browser = factory.CreateBrowser();
        var token = Browser.AntiforgeryToken(await browser.GetStringAsync("/Identity/Account/Login"));

        var answer = await Infrastructure.Protocol.ReadAsync(await browser.PostAsync("/Identity/Account/Login",
            Form($"a[=1&__RequestVerificationToken={Uri.EscapeDataString(token)}")));

        answer.ShouldBeProblem(HttpStatusCode.BadRequest, "The request could not be read.");
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public async Task Other_unreadable_bodies_on_a_page_are_400_without_a_stack_trace(string shape)
    {
        var (browser, _, userCode, token) = await OnConsentPageAsync();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/device?handler=Approve")
        {
            Content = Body(shape, $"Input.UserCode={userCode}&__RequestVerificationToken={Uri.EscapeDataString(token)}"),
        };
        request.Headers.Accept.ParseAdd("text/html");

        var response = await browser.SendAsync(request);

        response.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        var body = await response.Content.ReadAsStringAsync();
        body.ShouldNotContain("Exception");
        body.ShouldNotContain(" at ");
    }

    private static async Task<HttpResponseMessage> PostAsHtmlAsync(HttpClient browser, string path, string encodedForm)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = Form(encodedForm) };
        request.Headers.Accept.ParseAdd("text/html");
        return await browser.SendAsync(request);
    }

    private static async Task ShouldBeFriendlyBadRequestAsync(HttpResponseMessage response)
    {
        response.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        response.Content.Headers.ContentType!.MediaType.ShouldBe("text/html");
        var html = await response.Content.ReadAsStringAsync();
        html.ShouldContain("<h1>That request could not be read</h1>");
        html.ShouldContain("Nothing was changed");
        html.ShouldNotContain("Exception");
    }
}
