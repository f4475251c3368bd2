using System.Net;
using AuthServer.Tests.Infrastructure;

namespace AuthServer.Tests.Localization;

public sealed class ErrorPageTests(AuthServerFactory factory) : IClassFixture<AuthServerFactory>
{
    private async Task<(HttpResponseMessage Response, string Body)> GetAsync(string path, string? accept, string? language = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, path);
        if (accept is not null) request.Headers.Accept.ParseAdd(accept);
        if (language is not null) request.Headers.AcceptLanguage.ParseAdd(language);
        var response = await factory.CreateBrowser().SendAsync(request);
        return (response, await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task A_browser_gets_an_html_404_page()
    {
        var (response, body) = await GetAsync("/no-such-page", "text/html,application/xhtml+xml,*/*;q=0.8");

        response.StatusCode.ShouldBe(HttpStatusCode.NotFound);
        response.Content.Headers.ContentType!.MediaType.ShouldBe("text/html");
        body.ShouldContain("<h1>Page not found</h1>");
        body.ShouldContain("<a href=\"/\">Go to the home page</a>");
    }

    [Fact]
    public async Task A_chinese_browser_gets_the_404_page_in_chinese()
    {
        var (response, body) = await GetAsync("/no-such-page", "text/html", "zh-CN");

        response.StatusCode.ShouldBe(HttpStatusCode.NotFound);
        body.ShouldContain("<html lang=\"zh-CN\">");
        body.ShouldContain("<h1>找不到页面</h1>");
    }

    [Theory]
    [InlineData("/no-such-page", "application/json")]
    [InlineData("/no-such-page", null)]
    [InlineData("/api/phone/no-such-endpoint", "text/html")]
    public async Task An_api_client_or_an_api_path_gets_problem_details(string path, string? accept)
    {
        var (response, body) = await GetAsync(path, accept);

        response.StatusCode.ShouldBe(HttpStatusCode.NotFound);
        response.Content.Headers.ContentType!.MediaType.ShouldBe("application/problem+json");
        body.ShouldContain("\"status\":404");
        body.ShouldContain("\"title\":\"Not Found\"");
    }

    /// <summary>Below the protocol endpoints an OAuth client parses RFC 6749 §5.2 errors, even when it asks for HTML.</summary>
    [Theory]
    [InlineData("/connect/no-such-endpoint", "text/html")]
    [InlineData("/.well-known/no-such-document", null)]
    public async Task A_protocol_path_gets_an_oauth_error(string path, string? accept)
    {
        var (response, body) = await GetAsync(path, accept);

        response.StatusCode.ShouldBe(HttpStatusCode.NotFound);
        response.Content.Headers.ContentType!.MediaType.ShouldBe("application/json");
        body.ShouldContain("\"error\":\"invalid_request\"");
        body.ShouldContain("There is no protocol endpoint at this address.");
    }

    [Theory]
    [InlineData("/Identity/Account/ForgotPassword")]
    [InlineData("/Identity/Account/ResetPassword")]
    [InlineData("/Identity/Account/ConfirmEmail")]
    [InlineData("/Identity/Account/Manage")]
    [InlineData("/Identity/Account/Manage/ChangePassword")]
    [InlineData("/Identity/Account/Logout")]
    [InlineData("/Identity/Account/Register")]
    [InlineData("/Identity/Account/LoginWith2fa")]
    public async Task The_identity_pages_we_do_not_support_are_not_found(string path)
    {
        var (response, body) = await GetAsync(path, "text/html");

        response.StatusCode.ShouldBe(HttpStatusCode.NotFound);
        body.ShouldContain("<h1>Page not found</h1>");
    }

    [Fact]
    public async Task The_sign_in_page_is_still_served()
    {
        var (response, body) = await GetAsync("/Identity/Account/Login", "text/html");

        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        body.ShouldContain("<h2>With your password</h2>");
    }
}
