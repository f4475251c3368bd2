using System.Net;
using System.Net.Http.Headers;
using AuthServer.Data;
using AuthServer.Handlers;
using AuthServer.Tests.Infrastructure;
using AuthServer.WebSignIn;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Answer = AuthServer.Tests.Infrastructure.Protocol.Answer;

namespace AuthServer.Tests.WebSignIn;

/// <summary>
/// A QR sign-in of this browser, over HTTP as the page's script does it: the device authorization sets the binding
/// cookie, the phone approves, the browser redeems its device code and exchanges the access token for the session
/// cookie at <c>/account/qr-signin</c>. Another browser holding the same device code, or the same tokens, gets nothing.
/// </summary>
public abstract class BrowserSignInTests(AuthServerFactory factory)
{
    public sealed class OnSqlite(AuthServerFactory server) : BrowserSignInTests(server), IClassFixture<AuthServerFactory>;

    public sealed class OnPostgreSql(PostgreSqlAuthServerFactory server) : BrowserSignInTests(server), IClassFixture<PostgreSqlAuthServerFactory>;

    private const string Scope = "openid profile offline_access";

    /// <summary>What the page holds once the phone approved: its cookies (in the client), its antiforgery token, its tokens.</summary>
    private sealed record Approved(HttpClient Browser, string Antiforgery, Answer Started, string AccessToken);

    /// <summary>Opens the home page, starts a login request as its script does, and has the demo user approve it.</summary>
    private async Task<(HttpClient Browser, string Antiforgery, Answer Started)> StartAndApproveAsync()
    {
        var browser = factory.CreateBrowser();
        var antiforgery = Browser.AntiforgeryToken(await browser.GetStringAsync("/"));
        var started = await browser.StartAsync(BrowserBinding.ClientId, Scope, "Chrome on Linux");
        started.Status.ShouldBe(HttpStatusCode.OK);
        await factory.DecideAsDemoUserAsync(started.Get("user_code"), approve: true);
        return (browser, antiforgery, started);
    }

    private async Task<Approved> RedeemedAsync()
    {
        var (browser, antiforgery, started) = await StartAndApproveAsync();
        var tokens = await browser.PollAsync(started.Get("device_code"), BrowserBinding.ClientId);
        tokens.Status.ShouldBe(HttpStatusCode.OK, tokens.Json.ToString());
        return new Approved(browser, antiforgery, started, tokens.Get("access_token"));
    }

    private static Task<Answer> ExchangeAsync(HttpClient browser, string? accessToken, string? antiforgery, string? returnUrl = "/")
    {
        var form = new Dictionary<string, string>();
        if (antiforgery is not null) form["__RequestVerificationToken"] = antiforgery;
        if (returnUrl is not null) form[SessionEndpoint.ReturnUrlField] = returnUrl;
        var request = new HttpRequestMessage(HttpMethod.Post, SessionEndpoint.Path) { Content = new FormUrlEncodedContent(form) };
        if (accessToken is not null) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", accessToken);
        return SendAsync(browser, request);
    }

    private static async Task<Answer> SendAsync(HttpClient browser, HttpRequestMessage request) =>
        await Infrastructure.Protocol.ReadAsync(await browser.SendAsync(request));

    [Fact]
    public async Task The_device_response_sets_an_HttpOnly_strict_binding_cookie_and_the_database_keeps_only_its_hash()
    {
        var browser = factory.CreateBrowser();
        var started = await browser.StartAsync(BrowserBinding.ClientId, Scope, "Chrome on Linux");

        started.Status.ShouldBe(HttpStatusCode.OK);
        started.Get("device_code").ShouldNotBeEmpty();
        var cookie = started.Response.Headers.GetValues("Set-Cookie").Single(c => c.StartsWith(BrowserBinding.CookieName + "=", StringComparison.Ordinal));
        cookie.ShouldContain("httponly", Case.Insensitive);
        cookie.ShouldContain("samesite=strict", Case.Insensitive);
        cookie.ShouldContain("path=/", Case.Insensitive);
        cookie.ShouldNotContain("expires", Case.Insensitive);
        var secret = cookie.Split(';')[0][(BrowserBinding.CookieName.Length + 1)..];
        secret.Length.ShouldBe(43);

        using var scope = factory.Services.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<AuthServerDbContext>();
        var row = await db.BrowserSignIns.AsNoTracking()
            .SingleAsync(b => db.DeviceAuthorizations.Any(d => d.Id == b.Id && d.UserCode == started.Get("user_code").Replace("-", "")));
        row.BindingHash.ShouldBe(AuthServer.DeviceFlow.OpaqueSecret.Hash(secret));
        row.BindingHash.ShouldNotBe(secret);
        row.SessionIssuedAt.ShouldBeNull();

        // A second QR code of the same browser (another tab, a rotation) keeps the same secret: no new cookie.
        var again = await browser.StartAsync(BrowserBinding.ClientId, Scope, "Chrome on Linux");
        again.Status.ShouldBe(HttpStatusCode.OK);
        again.Response.Headers.TryGetValues("Set-Cookie", out var more).ShouldBeFalse(string.Join("; ", more ?? []));
    }

    [Fact]
    public async Task An_approval_becomes_this_browsers_session_that_opens_the_account_pages_without_a_password()
    {
        var approved = await RedeemedAsync();
        (await approved.Browser.GetAsync("/account/devices")).StatusCode.ShouldBe(HttpStatusCode.Redirect, "not signed in before the exchange");

        var answer = await ExchangeAsync(approved.Browser, approved.AccessToken, approved.Antiforgery);

        answer.Status.ShouldBe(HttpStatusCode.OK, answer.Json.ToString());
        answer.Get("location").ShouldBe("/");
        answer.Response.Headers.GetValues("Set-Cookie").ShouldContain(c => c.StartsWith("authserver.session=", StringComparison.Ordinal));
        var home = await approved.Browser.GetStringAsync("/");
        home.ShouldContain("Signed in as Demo User");
        home.ShouldContain("data-testid=\"sign-out\"");
        home.ShouldContain(AuthServerFactory.DemoEmail);
        home.ShouldNotContain("data-qr-login");
        var devices = await approved.Browser.GetAsync("/account/devices");
        devices.StatusCode.ShouldBe(HttpStatusCode.OK);
        (await devices.Content.ReadAsStringAsync()).ShouldContain("Chrome on Linux");
    }

    /// <summary>The page's own linked device: the <c>device_id</c> claim of its access token.</summary>
    private static string DeviceIdOf(string accessToken) =>
        System.Text.Json.JsonDocument.Parse(Microsoft.IdentityModel.Tokens.Base64UrlEncoder.Decode(accessToken.Split('.')[1]))
            .RootElement.GetProperty("device_id").GetString()!;

    [Fact]
    public async Task Logging_the_browsers_linked_device_out_from_the_phone_ends_its_session()
    {
        var approved = await RedeemedAsync();
        (await ExchangeAsync(approved.Browser, approved.AccessToken, approved.Antiforgery)).Status.ShouldBe(HttpStatusCode.OK);
        (await approved.Browser.GetAsync("/account/devices")).StatusCode.ShouldBe(HttpStatusCode.OK);

        var phone = await PhoneApp.SignInAsync(factory);
        (await phone.LogOutAsync(DeviceIdOf(approved.AccessToken))).Status.ShouldBe(HttpStatusCode.NoContent);

        var after = await approved.Browser.GetAsync("/account/devices");
        after.StatusCode.ShouldBe(HttpStatusCode.Redirect);
        after.Headers.Location!.ToString().ShouldContain("/Identity/Account/Login");
        (await approved.Browser.GetStringAsync("/")).ShouldContain("data-qr-login");
    }

    [Fact]
    public async Task Signing_out_in_the_header_logs_the_browsers_linked_device_out()
    {
        var approved = await RedeemedAsync();
        (await ExchangeAsync(approved.Browser, approved.AccessToken, approved.Antiforgery)).Status.ShouldBe(HttpStatusCode.OK);
        var home = await approved.Browser.GetStringAsync("/");

        var signedOut = await approved.Browser.PostAsync("/connect/endsession", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["confirm"] = "yes",
            ["__RequestVerificationToken"] = Browser.AntiforgeryToken(home),
        }));

        signedOut.StatusCode.ShouldBe(HttpStatusCode.OK);
        Browser.Result(await signedOut.Content.ReadAsStringAsync()).ShouldBe("You are signed out.");
        (await approved.Browser.GetAsync("/account/devices")).StatusCode.ShouldBe(HttpStatusCode.Redirect);
        using var scope = factory.Services.CreateScope();
        var authorizations = scope.ServiceProvider.GetRequiredService<OpenIddict.Abstractions.IOpenIddictAuthorizationManager>();
        var device = await authorizations.FindByIdAsync(DeviceIdOf(approved.AccessToken));
        (await authorizations.GetStatusAsync(device!)).ShouldBe(OpenIddict.Abstractions.OpenIddictConstants.Statuses.Revoked);
    }

    [Fact]
    public async Task Another_browser_holding_the_device_code_gets_no_tokens_and_the_code_stays_its_browsers()
    {
        var (browser, _, started) = await StartAndApproveAsync();
        var elsewhere = factory.CreateBrowser();

        var stolen = await elsewhere.PollAsync(started.Get("device_code"), BrowserBinding.ClientId);

        stolen.Status.ShouldBe(HttpStatusCode.BadRequest);
        stolen.Error.ShouldBe("invalid_grant");
        stolen.Json.GetProperty("error_description").GetString().ShouldBe(WebSignInHandlers.RedeemOnlyInTheBoundBrowser.WrongBrowser);
        stolen.Json.TryGetProperty("access_token", out _).ShouldBeFalse();
        // The same with a binding cookie of its own: a secret of another browser is just as wrong.
        (await elsewhere.StartAsync(BrowserBinding.ClientId, Scope, "Elsewhere")).Status.ShouldBe(HttpStatusCode.OK);
        (await elsewhere.PollAsync(started.Get("device_code"), BrowserBinding.ClientId)).Error.ShouldBe("invalid_grant");

        var own = await browser.PollAsync(started.Get("device_code"), BrowserBinding.ClientId);
        own.Status.ShouldBe(HttpStatusCode.OK);
        own.Get("access_token").ShouldNotBeEmpty();
    }

    [Fact]
    public async Task Another_browser_holding_the_tokens_gets_no_session()
    {
        var approved = await RedeemedAsync();
        var elsewhere = factory.CreateBrowser();
        var antiforgery = Browser.AntiforgeryToken(await elsewhere.GetStringAsync("/"));

        var answer = await ExchangeAsync(elsewhere, approved.AccessToken, antiforgery);

        answer.Status.ShouldBe(HttpStatusCode.Forbidden);
        answer.Json.GetProperty("title").GetString().ShouldBe("This sign-in belongs to another browser.");
        answer.Response.Headers.TryGetValues("Set-Cookie", out var cookies).ShouldBeFalse(string.Join("; ", cookies ?? []));
        (await elsewhere.GetAsync("/account/devices")).StatusCode.ShouldBe(HttpStatusCode.Redirect);
        // The right browser still can, once.
        (await ExchangeAsync(approved.Browser, approved.AccessToken, approved.Antiforgery)).Status.ShouldBe(HttpStatusCode.OK);
    }

    [Fact]
    public async Task Concurrent_exchanges_of_one_approval_make_exactly_one_session()
    {
        var approved = await RedeemedAsync();
        await using var connection = await factory.OpenDatabaseAsync();
        const string signIns = "SELECT COUNT(*) FROM \"AuditEvents\" WHERE \"Type\" = 'sign_in.succeeded' AND \"ClientId\" = @client";
        var before = await connection.ScalarAsync<long>(signIns, ("@client", BrowserBinding.ClientId));

        var answers = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => ExchangeAsync(approved.Browser, approved.AccessToken, approved.Antiforgery)));

        answers.Count(a => a.Status == HttpStatusCode.OK).ShouldBe(1);
        // The audit event commits with the single-use update: the winner writes one, the losers none.
        (await connection.ScalarAsync<long>(signIns, ("@client", BrowserBinding.ClientId))).ShouldBe(before + 1);
        var losers = answers.Where(a => a.Status != HttpStatusCode.OK).ToList();
        losers.Count.ShouldBe(3);
        losers.ShouldAllBe(a => a.Status == HttpStatusCode.Conflict);
        losers[0].Json.GetProperty("title").GetString().ShouldBe("This sign-in has already been used.");
    }

    [Fact]
    public async Task Without_the_pages_antiforgery_token_the_exchange_is_refused()
    {
        var approved = await RedeemedAsync();

        var answer = await ExchangeAsync(approved.Browser, approved.AccessToken, antiforgery: null);

        answer.Status.ShouldBe(HttpStatusCode.BadRequest);
        answer.Response.Content.Headers.ContentType!.MediaType.ShouldBe("application/problem+json");
        answer.Json.GetProperty("title").GetString().ShouldBe("The request did not come from this server's sign-in page.");
        // Nothing was used up.
        (await ExchangeAsync(approved.Browser, approved.AccessToken, approved.Antiforgery)).Status.ShouldBe(HttpStatusCode.OK);
    }

    [Fact]
    public async Task Without_an_access_token_of_the_sign_in_page_the_exchange_is_refused()
    {
        var browser = factory.CreateBrowser();
        var antiforgery = Browser.AntiforgeryToken(await browser.GetStringAsync("/"));
        var tv = await factory.SignInDeviceAsync();

        foreach (var token in new[] { null, "not-a-token", tv.Get("access_token") })
        {
            var answer = await ExchangeAsync(browser, token, antiforgery);
            answer.Status.ShouldBe(HttpStatusCode.Unauthorized, token);
            answer.Json.GetProperty("title").GetString().ShouldBe("No valid access token of the sign-in page.");
        }
    }

    [Theory]
    [InlineData("/connect/authorize?client_id=x&state=y", "/connect/authorize?client_id=x&state=y")]
    [InlineData("//evil.example/path", "/")]
    [InlineData("/\\evil.example", "/")]
    [InlineData("https://evil.example/", "/")]
    [InlineData("", "/")]
    public async Task The_answer_continues_to_the_local_return_url_only(string returnUrl, string location)
    {
        var approved = await RedeemedAsync();

        var answer = await ExchangeAsync(approved.Browser, approved.AccessToken, approved.Antiforgery, returnUrl);

        answer.Status.ShouldBe(HttpStatusCode.OK);
        answer.Get("location").ShouldBe(location);
    }
}
