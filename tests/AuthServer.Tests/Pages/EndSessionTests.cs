using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using AuthServer.Data.Entities;
using AuthServer.Tests.Infrastructure;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.IdentityModel.Tokens;

namespace AuthServer.Tests.Pages;

public sealed class EndSessionTests(AuthServerFactory factory) : IClassFixture<AuthServerFactory>
{
    private const string EndSession = "/connect/endsession";

    private async Task<HttpClient> SignedInBrowserAsync()
    {
        var browser = factory.CreateBrowser();
        await browser.SignInAsync();
        return browser;
    }

    /// <summary>
    /// The test web app signs the browser's user in with the code flow, approving consent through the real page when
    /// it is asked for, and redeems the code: the ID token it gets is what it later sends as id_token_hint.
    /// </summary>
    private async Task<string> WebAppIdTokenAsync(HttpClient browser) => (await WebAppSignInAsync(browser)).IdToken;

    private async Task<(string IdToken, bool ConsentAsked)> WebAppSignInAsync(HttpClient browser)
    {
        var consentAsked = false;
        var pkce = CodeFlow.Pkce.New();
        var response = await browser.GetAsync(CodeFlow.AuthorizeUrl(AuthServerFactory.WebAppClientId, AuthServerFactory.WebAppRedirectUri, pkce, "openid profile"));
        response.StatusCode.ShouldBe(HttpStatusCode.Redirect);
        var location = response.Headers.Location!;
        if (!location.IsAbsoluteUri && location.ToString().StartsWith("/consent", StringComparison.Ordinal))
        {
            consentAsked = true;
            var consentPage = await browser.GetStringAsync(location.ToString());
            consentPage.ShouldContain("Test Web App");
            var returnUrl = QueryHelpers.ParseQuery(location.ToString()[location.ToString().IndexOf('?')..])["returnUrl"].ToString();
            var allowed = await browser.PostAsync("/consent?handler=Allow", new FormUrlEncodedContent(new Dictionary<string, string>
            {
                ["ReturnUrl"] = returnUrl,
                ["__RequestVerificationToken"] = Browser.AntiforgeryToken(consentPage),
            }));
            allowed.StatusCode.ShouldBe(HttpStatusCode.Redirect);
            location = allowed.Headers.Location!;
        }
        var landed = location.IsAbsoluteUri && location.Host != "localhost" ? location : await browser.FollowUntilExternalAsync(location.ToString());
        landed.GetLeftPart(UriPartial.Path).ShouldBe(AuthServerFactory.WebAppRedirectUri);
        var code = CodeFlow.Query(landed)["code"];

        var tokens = await CodeFlow.RedeemAsync(factory.CreateClient(), AuthServerFactory.WebAppClientId, code,
            AuthServerFactory.WebAppRedirectUri, pkce.Verifier, AuthServerFactory.WebAppSecret);
        tokens.Status.ShouldBe(HttpStatusCode.OK);
        return (tokens.Get("id_token"), consentAsked);
    }

    private Task<(string Email, string Password)> NewUserAsync() => PhoneApp.NewAccountAsync(factory, "endsession", "Other-Password-1");

    private static string EndSessionUrl(params (string Key, string Value)[] parameters) =>
        QueryHelpers.AddQueryString(EndSession, parameters.Select(p => new KeyValuePair<string, string?>(p.Key, p.Value)));

    [Fact]
    public async Task A_hint_for_the_signed_in_user_signs_out_at_once_and_returns_to_the_registered_uri_with_state()
    {
        // A new user, so the third-party app's consent is asked for and approved through the real page.
        var (email, password) = await NewUserAsync();
        var browser = factory.CreateBrowser();
        await browser.SignInAsync(email, password);
        var (idToken, consentAsked) = await WebAppSignInAsync(browser);
        consentAsked.ShouldBeTrue();

        var response = await browser.GetAsync(EndSessionUrl(
            ("id_token_hint", idToken), ("post_logout_redirect_uri", AuthServerFactory.WebAppPostLogoutUri), ("state", "bye-42")));

        response.StatusCode.ShouldBe(HttpStatusCode.Redirect);
        response.Headers.Location.ShouldBe(new Uri(AuthServerFactory.WebAppPostLogoutUri + "?state=bye-42"));
        (await browser.IsSignedInAsync()).ShouldBeFalse();
    }

    [Fact]
    public async Task A_hint_posted_as_a_form_works_like_a_query()
    {
        var browser = await SignedInBrowserAsync();
        var idToken = await WebAppIdTokenAsync(browser);

        var response = await browser.PostAsync(EndSession, new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["id_token_hint"] = idToken,
            ["post_logout_redirect_uri"] = AuthServerFactory.WebAppPostLogoutUri,
        }));

        response.StatusCode.ShouldBe(HttpStatusCode.Redirect);
        response.Headers.Location.ShouldBe(new Uri(AuthServerFactory.WebAppPostLogoutUri));
        (await browser.IsSignedInAsync()).ShouldBeFalse();
    }

    [Fact]
    public async Task An_unregistered_post_logout_redirect_uri_is_refused_with_a_page_and_the_user_stays_signed_in()
    {
        var browser = await SignedInBrowserAsync();
        var idToken = await WebAppIdTokenAsync(browser);

        var response = await browser.GetAsync(EndSessionUrl(
            ("id_token_hint", idToken), ("post_logout_redirect_uri", "https://evil.example/signed-out"), ("state", "x")));

        response.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        response.Headers.Location.ShouldBeNull();
        Browser.Result(await response.Content.ReadAsStringAsync())
            .ShouldBe("The application asked to return to an address that is not registered for it.");
        (await browser.IsSignedInAsync()).ShouldBeTrue();
    }

    [Fact]
    public async Task A_post_logout_redirect_uri_without_hint_or_client_id_is_refused()
    {
        var browser = await SignedInBrowserAsync();

        var response = await browser.GetAsync(EndSessionUrl(("post_logout_redirect_uri", AuthServerFactory.WebAppPostLogoutUri)));

        response.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        Browser.Result(await response.Content.ReadAsStringAsync())
            .ShouldBe("The application asked to return to an address that is not registered for it.");
        (await browser.IsSignedInAsync()).ShouldBeTrue();
    }

    [Fact]
    public async Task Without_a_hint_the_signed_in_user_is_asked_to_confirm_and_stays_signed_in_until_then()
    {
        var browser = await SignedInBrowserAsync();

        var response = await browser.GetAsync(EndSession);

        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        var page = await response.Content.ReadAsStringAsync();
        page.ShouldContain("Sign out?");
        page.ShouldContain("name=\"confirm\"");
        Browser.AntiforgeryToken(page).ShouldNotBeNullOrEmpty();
        (await browser.IsSignedInAsync()).ShouldBeTrue();
    }

    [Fact]
    public async Task Confirming_with_the_pages_antiforgery_token_signs_out()
    {
        var browser = await SignedInBrowserAsync();
        var page = await browser.GetStringAsync(EndSession);

        var response = await browser.PostAsync(EndSession, new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["confirm"] = "yes",
            ["__RequestVerificationToken"] = Browser.AntiforgeryToken(page),
        }));

        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        Browser.Result(await response.Content.ReadAsStringAsync()).ShouldBe("You are signed out.");
        (await browser.IsSignedInAsync()).ShouldBeFalse();
    }

    [Fact]
    public async Task Confirming_with_a_registered_return_uri_signs_out_and_returns_there()
    {
        var browser = await SignedInBrowserAsync();
        var page = await browser.GetStringAsync(EndSessionUrl(
            ("client_id", AuthServerFactory.WebAppClientId), ("post_logout_redirect_uri", AuthServerFactory.WebAppPostLogoutUri), ("state", "s1")));
        page.ShouldContain("Sign out?");

        var response = await browser.PostAsync(EndSession, new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["client_id"] = AuthServerFactory.WebAppClientId,
            ["post_logout_redirect_uri"] = AuthServerFactory.WebAppPostLogoutUri,
            ["state"] = "s1",
            ["confirm"] = "yes",
            ["__RequestVerificationToken"] = Browser.AntiforgeryToken(page),
        }));

        response.StatusCode.ShouldBe(HttpStatusCode.Redirect);
        response.Headers.Location.ShouldBe(new Uri(AuthServerFactory.WebAppPostLogoutUri + "?state=s1"));
        (await browser.IsSignedInAsync()).ShouldBeFalse();
    }

    [Fact]
    public async Task Confirming_without_the_antiforgery_token_is_refused_and_the_user_stays_signed_in()
    {
        var browser = await SignedInBrowserAsync();
        await browser.GetStringAsync(EndSession);

        var response = await browser.PostAsync(EndSession, new FormUrlEncodedContent(new Dictionary<string, string> { ["confirm"] = "yes" }));

        response.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        (await response.Content.ReadAsStringAsync()).ShouldNotContain("You are signed out");
        (await browser.IsSignedInAsync()).ShouldBeTrue();
    }

    [Fact]
    public async Task A_hint_for_another_user_asks_the_signed_in_user_to_confirm()
    {
        var demo = await SignedInBrowserAsync();
        var demoIdToken = await WebAppIdTokenAsync(demo);
        var (email, password) = await NewUserAsync();
        var other = factory.CreateBrowser();
        await other.SignInAsync(email, password);

        var response = await other.GetAsync(EndSessionUrl(
            ("id_token_hint", demoIdToken), ("post_logout_redirect_uri", AuthServerFactory.WebAppPostLogoutUri)));

        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        (await response.Content.ReadAsStringAsync()).ShouldContain("Sign out?");
        (await other.IsSignedInAsync()).ShouldBeTrue();
        (await demo.IsSignedInAsync()).ShouldBeTrue();
    }

    [Fact]
    public async Task A_tampered_id_token_hint_is_refused_with_a_page()
    {
        var browser = await SignedInBrowserAsync();
        var idToken = await WebAppIdTokenAsync(browser);
        var parts = idToken.Split('.');
        var payload = JsonNode.Parse(Base64UrlEncoder.Decode(parts[1]))!;
        payload["sub"] = "someone-else";
        var tampered = $"{parts[0]}.{Base64UrlEncoder.Encode(Encoding.UTF8.GetBytes(payload.ToJsonString()))}.{parts[2]}";

        var response = await browser.GetAsync(EndSessionUrl(
            ("id_token_hint", tampered), ("post_logout_redirect_uri", AuthServerFactory.WebAppPostLogoutUri)));

        response.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        response.Headers.Location.ShouldBeNull();
        Browser.Result(await response.Content.ReadAsStringAsync()).ShouldBe("The sign-out request carries an ID token we did not issue.");
        (await browser.IsSignedInAsync()).ShouldBeTrue();
    }

    [Fact]
    public async Task A_client_id_other_than_the_hints_audience_is_refused()
    {
        var browser = await SignedInBrowserAsync();
        var idToken = await WebAppIdTokenAsync(browser);

        var response = await browser.GetAsync(EndSessionUrl(
            ("id_token_hint", idToken), ("client_id", "phone"), ("post_logout_redirect_uri", AuthServerFactory.WebAppPostLogoutUri)));

        response.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        response.Headers.Location.ShouldBeNull();
        Browser.Result(await response.Content.ReadAsStringAsync()).ShouldBe("The sign-out request names two different applications.");
        (await browser.IsSignedInAsync()).ShouldBeTrue();
    }

    [Fact]
    public async Task An_expired_id_token_hint_still_identifies_the_user()
    {
        var browser = await SignedInBrowserAsync();
        var idToken = await WebAppIdTokenAsync(browser);
        factory.Clock.Advance(TimeSpan.FromHours(1));

        var response = await browser.GetAsync(EndSessionUrl(
            ("id_token_hint", idToken), ("post_logout_redirect_uri", AuthServerFactory.WebAppPostLogoutUri)));

        response.StatusCode.ShouldBe(HttpStatusCode.Redirect);
        response.Headers.Location.ShouldBe(new Uri(AuthServerFactory.WebAppPostLogoutUri));
        (await browser.IsSignedInAsync()).ShouldBeFalse();
    }
}
