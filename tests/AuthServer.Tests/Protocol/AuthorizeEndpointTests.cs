using System.Net;
using AuthServer.Tests.Infrastructure;

namespace AuthServer.Tests.Protocol;

public abstract class AuthorizeEndpointTests(AuthServerFactory factory)
{
    public sealed class OnSqlite(AuthServerFactory server) : AuthorizeEndpointTests(server), IClassFixture<AuthServerFactory>;

    public sealed class OnPostgreSql(PostgreSqlAuthServerFactory server) : AuthorizeEndpointTests(server), IClassFixture<PostgreSqlAuthServerFactory>;

    private static readonly CodeFlow.Pkce Pkce = CodeFlow.Pkce.New();

    private async Task<HttpClient> SignedInAsync()
    {
        var browser = factory.CreateBrowser();
        await browser.SignInAsync();
        return browser;
    }

    private static async Task<HttpResponseMessage> GetAsync(HttpClient browser, string url) => await browser.GetAsync(url);

    [Fact]
    public async Task An_unknown_client_gets_an_error_page_and_is_never_redirected()
    {
        var browser = await SignedInAsync();

        var response = await GetAsync(browser, CodeFlow.AuthorizeUrl("nobody", "https://evil.example/cb", Pkce, "openid"));

        response.StatusCode.ShouldBe(HttpStatusCode.Redirect);
        response.Headers.Location!.ToString().ShouldStartWith("/authorize/error");
        var page = await browser.GetAsync(response.Headers.Location);
        page.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        Browser.Result(await page.Content.ReadAsStringAsync()).ShouldContain("not registered");
    }

    [Theory]
    [InlineData("https://evil.example/callback")]
    [InlineData("https://webapp.example/callback/")]        // exact match: no trailing-slash leniency
    [InlineData("https://webapp.example:8443/callback")]    // the any-port rule is for loopback only
    [InlineData("https://webapp.example/callback?x=1")]
    public async Task A_redirect_uri_that_is_not_registered_exactly_gets_an_error_page(string redirectUri)
    {
        var browser = await SignedInAsync();

        var response = await GetAsync(browser, CodeFlow.AuthorizeUrl(AuthServerFactory.WebAppClientId, redirectUri, Pkce, "openid"));

        response.Headers.Location!.ToString().ShouldStartWith("/authorize/error");
    }

    [Theory]
    [InlineData("http://127.0.0.1:54321/callback", true)]
    [InlineData("http://127.0.0.1:1/callback", true)]
    [InlineData("http://127.0.0.1/callback", true)]
    [InlineData("http://localhost:54321/callback", false)]   // RFC 8252 §8.3: the IP literal, not a name
    [InlineData("http://127.0.0.1:54321/other", false)]
    [InlineData("https://127.0.0.1:54321/callback", false)]
    // Only the port is relaxed (RFC 8252 §7.3): the address as registered, no user info, no dot segments.
    [InlineData("http://127.1:54321/callback", false)]
    [InlineData("http://0x7f.0.0.1:54321/callback", false)]
    [InlineData("http://0177.0.0.1:54321/callback", false)]
    [InlineData("http://2130706433:54321/callback", false)]
    [InlineData("http://127.0.0.2:54321/callback", false)]
    [InlineData("http://[::1]:54321/callback", false)]
    [InlineData("http://evil@127.0.0.1:54321/callback", false)]
    [InlineData("http://127.0.0.1:54321@evil.example/callback", false)]
    [InlineData("http://127.0.0.1:54321/x/../callback", false)]
    [InlineData("http://127.0.0.1:54321/Callback", false)]
    [InlineData("http://127.0.0.1:054321/callback", false)]
    [InlineData("http://127.0.0.1:99999/callback", false)]
    [InlineData("http://127.0.0.1:/callback", false)]
    [InlineData("HTTP://127.0.0.1:54321/callback", false)]
    public async Task A_native_apps_loopback_redirect_matches_on_any_port(string redirectUri, bool allowed)
    {
        var browser = await SignedInAsync();

        var location = (await GetAsync(browser, CodeFlow.AuthorizeUrl("phone", redirectUri, Pkce, "openid phone_app"))).Headers.Location!;

        if (allowed)
        {
            location.IsAbsoluteUri.ShouldBeTrue();
            location.GetLeftPart(UriPartial.Path).ShouldBe(new Uri(redirectUri).GetLeftPart(UriPartial.Path));
            CodeFlow.Query(location).ShouldContainKey("code");
        }
        else
        {
            location.ToString().ShouldStartWith("/authorize/error");
        }
    }

    [Theory]
    [InlineData("code_challenge", null, "invalid_request")]
    [InlineData("code_challenge_method", "plain", "invalid_request")]
    [InlineData("code_challenge_method", null, "invalid_request")]
    [InlineData("code_challenge", "too-short", "invalid_request")]
    [InlineData("response_type", "token", "unsupported_response_type")]
    [InlineData("response_type", "code id_token", "unsupported_response_type")]
    [InlineData("response_type", null, "invalid_request")]
    [InlineData("response_mode", "fragment", "invalid_request")]
    [InlineData("scope", "openid launch_missiles", "invalid_scope")]
    [InlineData("request", "eyJhbGciOiJub25lIn0.e30.", "request_not_supported")]
    [InlineData("prompt", "none login", "invalid_request")]
    public async Task Invalid_requests_are_shown_on_the_error_page_and_never_sent_to_the_client(string parameter, string? value, string error)
    {
        var browser = await SignedInAsync();
        var url = CodeFlow.AuthorizeUrl("phone", CodeFlow.PhoneRedirect, Pkce, "openid phone_app", extra: new() { [parameter] = value });
        if (value is null)
            url = Microsoft.AspNetCore.WebUtilities.QueryHelpers.AddQueryString("/connect/authorize",
                Microsoft.AspNetCore.WebUtilities.QueryHelpers.ParseQuery(new Uri("http://x" + url).Query)
                    .Where(p => p.Key != parameter).Select(p => new KeyValuePair<string, string?>(p.Key, p.Value.ToString())));

        var location = (await GetAsync(browser, url)).Headers.Location!;

        // OpenIddict answers a request that fails its validation on our error page, never on the redirect URI: only
        // a validated request may send anything back to the client (stricter than RFC 6749 §4.1.2.1 allows).
        location.IsAbsoluteUri.ShouldBeFalse();
        var page = new Uri(new Uri("http://localhost"), location);
        page.AbsolutePath.ShouldBe("/authorize/error");
        var query = CodeFlow.Query(page);
        query["error"].ShouldBe(error);
        query.ShouldNotContainKey("code");
    }

    [Fact]
    public async Task A_client_without_the_code_grant_gets_unauthorized_client()
    {
        using var custom = AuthServerFactory.With(new()
        {
            ["Clients:tv-with-redirect:GrantTypes:0"] = "urn:ietf:params:oauth:grant-type:device_code",
            ["Clients:tv-with-redirect:Scopes:0"] = "openid",
            ["Clients:tv-with-redirect:RedirectUris:0"] = "https://tv.example/cb",
        }, factory.Provider);
        var browser = custom.CreateBrowser();
        await browser.SignInAsync();

        var location = (await browser.GetAsync(CodeFlow.AuthorizeUrl("tv-with-redirect", "https://tv.example/cb", Pkce, "openid"))).Headers.Location!;

        // Refused while the request is validated, so on our error page (see above), not at the client.
        var page = new Uri(new Uri("http://localhost"), location);
        page.AbsolutePath.ShouldBe("/authorize/error");
        CodeFlow.Query(page)["error"].ShouldBe("unauthorized_client");
    }

    [Fact]
    public async Task A_signed_out_user_is_sent_to_sign_in_and_back()
    {
        var url = CodeFlow.AuthorizeUrl("phone", CodeFlow.PhoneRedirect, Pkce, "openid phone_app");

        var response = await GetAsync(factory.CreateBrowser(), url);

        var location = response.Headers.Location!.ToString();
        location.ShouldContain("/Identity/Account/Login");
        location.ShouldContain("ReturnUrl=" + Uri.EscapeDataString("/connect/authorize?"));
    }

    [Fact]
    public async Task Prompt_none_without_a_session_answers_login_required()
    {
        var url = CodeFlow.AuthorizeUrl("phone", CodeFlow.PhoneRedirect, Pkce, "openid phone_app", extra: new() { ["prompt"] = "none" });

        var location = (await GetAsync(factory.CreateBrowser(), url)).Headers.Location!;

        CodeFlow.Query(location)["error"].ShouldBe("login_required");
    }

    [Fact]
    public async Task Prompt_login_asks_for_a_fresh_sign_in_even_with_a_session()
    {
        var browser = await SignedInAsync();
        var url = CodeFlow.AuthorizeUrl("phone", CodeFlow.PhoneRedirect, Pkce, "openid phone_app", extra: new() { ["prompt"] = "login" });

        var location = (await GetAsync(browser, url)).Headers.Location!.ToString();

        location.ShouldContain("/Identity/Account/Login");
        // The return URL drops prompt=login, so signing in leads on to a code instead of another sign-in.
        Uri.UnescapeDataString(location).ShouldNotContain("prompt=login");
    }

    [Fact]
    public async Task A_first_party_client_gets_a_code_without_a_consent_page()
    {
        var browser = await SignedInAsync();

        var location = (await GetAsync(browser, CodeFlow.AuthorizeUrl("phone", CodeFlow.PhoneRedirect, Pkce, "openid phone_app"))).Headers.Location!;

        var query = CodeFlow.Query(location);
        query["code"].Length.ShouldBe(43);
        query["state"].ShouldBe("s-123");
        query["iss"].ShouldBe("http://localhost/");
    }

    [Fact]
    public async Task A_third_party_client_asks_for_consent_once_and_it_is_remembered()
    {
        var browser = factory.CreateBrowser();
        await browser.SignInAsync(await NewUserAsync("consent-once@example.com"));
        var url = CodeFlow.AuthorizeUrl(AuthServerFactory.WebAppClientId, AuthServerFactory.WebAppRedirectUri, Pkce, "openid profile api");

        var first = (await GetAsync(browser, url)).Headers.Location!.ToString();
        first.ShouldStartWith("/consent?returnUrl=");
        var consentPage = await browser.GetStringAsync(first);
        consentPage.ShouldContain("Test Web App");
        consentPage.ShouldContain("Use the API on your behalf");
        var allowed = await browser.PostAsync("/consent?handler=Allow", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["ReturnUrl"] = Uri.UnescapeDataString(first["/consent?returnUrl=".Length..]),
            ["__RequestVerificationToken"] = Browser.AntiforgeryToken(consentPage),
        }));
        allowed.StatusCode.ShouldBe(HttpStatusCode.Redirect);
        var landed = await browser.FollowUntilExternalAsync(allowed.Headers.Location!.ToString());
        CodeFlow.Query(landed).ShouldContainKey("code");

        // Second time: straight to a code. A wider scope asks again.
        CodeFlow.Query((await GetAsync(browser, url)).Headers.Location!).ShouldContainKey("code");
        var wider = CodeFlow.AuthorizeUrl(AuthServerFactory.WebAppClientId, AuthServerFactory.WebAppRedirectUri, Pkce, "openid profile api email");
        (await GetAsync(browser, wider)).Headers.Location!.ToString().ShouldStartWith("/consent?");
    }

    [Fact]
    public async Task Denying_consent_returns_access_denied_to_the_client()
    {
        var browser = factory.CreateBrowser();
        await browser.SignInAsync(await NewUserAsync("consent-deny@example.com"));
        var first = (await GetAsync(browser, CodeFlow.AuthorizeUrl(AuthServerFactory.WebAppClientId, AuthServerFactory.WebAppRedirectUri, Pkce, "openid"))).Headers.Location!.ToString();
        var consentPage = await browser.GetStringAsync(first);

        var denied = await browser.PostAsync("/consent?handler=Deny", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["ReturnUrl"] = Uri.UnescapeDataString(first["/consent?returnUrl=".Length..]),
            ["__RequestVerificationToken"] = Browser.AntiforgeryToken(consentPage),
        }));

        // Back through the authorization endpoint, which answers the client (RFC 6749 §4.1.2.1) with the state.
        var returned = await browser.FollowUntilExternalAsync(denied.Headers.Location!.ToString());
        var query = CodeFlow.Query(returned);
        returned.GetLeftPart(UriPartial.Path).ShouldBe(AuthServerFactory.WebAppRedirectUri);
        query["error"].ShouldBe("access_denied");
        query["state"].ShouldBe("s-123");
    }

    [Fact]
    public async Task The_consent_page_refuses_a_return_url_that_is_not_an_authorization_request()
    {
        var browser = await SignedInAsync();

        var page = await browser.GetStringAsync("/consent?returnUrl=" + Uri.EscapeDataString("https://evil.example/"));

        Browser.Result(page).ShouldContain("without a sign-in request");
    }

    [Fact]
    public async Task Prompt_none_for_a_third_party_without_consent_answers_consent_required()
    {
        var browser = factory.CreateBrowser();
        await browser.SignInAsync(await NewUserAsync("consent-none@example.com"));
        var url = CodeFlow.AuthorizeUrl(AuthServerFactory.WebAppClientId, AuthServerFactory.WebAppRedirectUri, Pkce, "openid", extra: new() { ["prompt"] = "none" });

        CodeFlow.Query((await GetAsync(browser, url)).Headers.Location!)["error"].ShouldBe("consent_required");
    }

    [Fact]
    public async Task The_authorization_request_may_be_POSTed()
    {
        var browser = await SignedInAsync();
        var query = Microsoft.AspNetCore.WebUtilities.QueryHelpers.ParseQuery(
            new Uri("http://x" + CodeFlow.AuthorizeUrl("phone", CodeFlow.PhoneRedirect, Pkce, "openid phone_app")).Query);

        var response = await browser.PostAsync("/connect/authorize",
            new FormUrlEncodedContent(query.Select(p => new KeyValuePair<string, string>(p.Key, p.Value.ToString()))));

        CodeFlow.Query(response.Headers.Location!).ShouldContainKey("code");
    }

    private async Task<(string, string)> NewUserAsync(string email)
    {
        using var scope = Microsoft.Extensions.DependencyInjection.ServiceProviderServiceExtensions.CreateScope(factory.Services);
        var users = Microsoft.Extensions.DependencyInjection.ServiceProviderServiceExtensions
            .GetRequiredService<Microsoft.AspNetCore.Identity.UserManager<AuthServer.Data.Entities.ApplicationUser>>(scope.ServiceProvider);
        const string password = "Another-Password-1";
        if (await users.FindByEmailAsync(email) is null)
            (await users.CreateAsync(new() { UserName = email, Email = email }, password)).Succeeded.ShouldBeTrue();
        return (email, password);
    }
}
