using System.Net;
using System.Net.Http.Headers;
using AuthServer.Tests.Infrastructure;
using Microsoft.IdentityModel.JsonWebTokens;

namespace AuthServer.Tests.Protocol;

public abstract class AuthorizationCodeGrantTests(AuthServerFactory factory)
{
    public sealed class OnSqlite(AuthServerFactory server) : AuthorizationCodeGrantTests(server), IClassFixture<AuthServerFactory>;

    public sealed class OnPostgreSql(PostgreSqlAuthServerFactory server) : AuthorizationCodeGrantTests(server), IClassFixture<PostgreSqlAuthServerFactory>;

    private readonly HttpClient _app = factory.CreateClient();

    private async Task<(string Code, CodeFlow.Pkce Pkce)> PhoneCodeAsync(string scope = "openid profile offline_access phone_app", Dictionary<string, string?>? extra = null)
    {
        var browser = factory.CreateBrowser();
        await browser.SignInAsync();
        var pkce = CodeFlow.Pkce.New();
        return (await CodeFlow.GetCodeAsync(browser, "phone", CodeFlow.PhoneRedirect, pkce, scope, extra), pkce);
    }

    [Fact]
    public async Task The_phone_signs_in_through_the_real_pages_with_a_loopback_redirect()
    {
        // The phone app opens the authorize URL in a browser that is not signed in yet.
        var browser = factory.CreateBrowser();
        var pkce = CodeFlow.Pkce.New();
        var authorize = CodeFlow.AuthorizeUrl("phone", "http://127.0.0.1:49152/callback", pkce, "openid profile offline_access phone_app",
            extra: new() { ["device_name"] = "Pixel 9" });
        var toLogin = await browser.GetAsync(authorize);
        toLogin.StatusCode.ShouldBe(HttpStatusCode.Redirect);
        var loginUrl = toLogin.Headers.Location!.PathAndQuery;
        loginUrl.ShouldStartWith("/Identity/Account/Login");

        var loginPage = await browser.GetStringAsync(loginUrl);
        var signedIn = await browser.PostAsync(loginUrl, new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["Input.Email"] = AuthServerFactory.DemoEmail,
            ["Input.Password"] = AuthServerFactory.DemoPassword,
            ["__RequestVerificationToken"] = Browser.AntiforgeryToken(loginPage),
        }));
        signedIn.StatusCode.ShouldBe(HttpStatusCode.Redirect);
        var landed = await browser.FollowUntilExternalAsync(signedIn.Headers.Location!.ToString());

        // The loopback listener of the app receives the code.
        landed.GetLeftPart(UriPartial.Path).ShouldBe("http://127.0.0.1:49152/callback");
        var query = CodeFlow.Query(landed);
        query["state"].ShouldBe("s-123");
        var tokens = await CodeFlow.RedeemAsync(_app, "phone", query["code"], "http://127.0.0.1:49152/callback", pkce.Verifier);

        tokens.Status.ShouldBe(HttpStatusCode.OK);
        var access = new JsonWebToken(tokens.Get("access_token"));
        access.GetClaim("scope").Value.ShouldBe("openid profile offline_access phone_app");
        access.GetClaim("client_id").Value.ShouldBe("phone");
        var deviceId = access.GetClaim("device_id").Value;
        deviceId.ShouldNotBeNullOrEmpty();
        var id = new JsonWebToken(tokens.Get("id_token"));
        id.GetClaim("nonce").Value.ShouldBe("n-456");
        id.Audiences.ShouldBe(["phone"]);
        tokens.Get("refresh_token").ShouldNotBeNullOrEmpty();

        await using var connection = await factory.OpenDatabaseAsync();
        // The linked device is OpenIddict's authorization, named after what the phone called itself.
        var rows = await connection.RowsAsync("SELECT a.\"DeviceName\", c.\"ClientId\" FROM \"OpenIddictAuthorizations\" a " +
            "JOIN \"OpenIddictApplications\" c ON c.\"Id\" = a.\"ApplicationId\" WHERE a.\"Id\" = @id", ("@id", deviceId));
        rows.Count.ShouldBe(1);
        rows[0].ShouldBe(["Pixel 9", "phone"]);
    }

    [Fact]
    public async Task A_wrong_code_verifier_is_invalid_grant()
    {
        var (code, _) = await PhoneCodeAsync();

        var answer = await CodeFlow.RedeemAsync(_app, "phone", code, CodeFlow.PhoneRedirect, CodeFlow.Pkce.New().Verifier);

        answer.Status.ShouldBe(HttpStatusCode.BadRequest);
        answer.Error.ShouldBe("invalid_grant");
    }

    [Fact]
    public async Task A_missing_code_verifier_is_invalid_request()
    {
        var (code, _) = await PhoneCodeAsync();

        var answer = await _app.PostFormAsync("/connect/token",
            ("grant_type", "authorization_code"), ("code", code), ("redirect_uri", CodeFlow.PhoneRedirect), ("client_id", "phone"));

        answer.Status.ShouldBe(HttpStatusCode.BadRequest);
        answer.Error.ShouldBe("invalid_request");
    }

    [Fact]
    public async Task A_different_redirect_uri_is_invalid_grant()
    {
        var (code, pkce) = await PhoneCodeAsync();

        var answer = await CodeFlow.RedeemAsync(_app, "phone", code, "http://127.0.0.1:9999/callback", pkce.Verifier);

        answer.Error.ShouldBe("invalid_grant");
    }

    [Fact]
    public async Task A_code_expires_after_sixty_seconds()
    {
        var (code, pkce) = await PhoneCodeAsync();
        // OpenIddict (RFC 7519 §4.1.4) still accepts a token in the second it expires; one second later it is gone.
        factory.Clock.Advance(TimeSpan.FromSeconds(61));

        var answer = await CodeFlow.RedeemAsync(_app, "phone", code, CodeFlow.PhoneRedirect, pkce.Verifier);

        answer.Error.ShouldBe("invalid_grant");
    }

    [Fact]
    public async Task A_code_redeemed_by_another_client_is_invalid_grant()
    {
        var (code, pkce) = await PhoneCodeAsync();

        var answer = await CodeFlow.RedeemAsync(_app, AuthServerFactory.WebAppClientId, code, CodeFlow.PhoneRedirect, pkce.Verifier, AuthServerFactory.WebAppSecret);

        answer.Error.ShouldBe("invalid_grant");
        (await CodeFlow.RedeemAsync(_app, "phone", code, CodeFlow.PhoneRedirect, pkce.Verifier)).Status.ShouldBe(HttpStatusCode.OK);
    }

    [Fact]
    public async Task A_code_used_twice_revokes_what_the_first_use_issued()
    {
        var (code, pkce) = await PhoneCodeAsync();
        var first = await CodeFlow.RedeemAsync(_app, "phone", code, CodeFlow.PhoneRedirect, pkce.Verifier);
        first.Status.ShouldBe(HttpStatusCode.OK);

        var replay = await CodeFlow.RedeemAsync(_app, "phone", code, CodeFlow.PhoneRedirect, pkce.Verifier);

        replay.Status.ShouldBe(HttpStatusCode.BadRequest);
        replay.Error.ShouldBe("invalid_grant");
        (await _app.RefreshAsync(first.Get("refresh_token"), clientId: "phone")).Error.ShouldBe("invalid_grant");
        var userinfo = new HttpRequestMessage(HttpMethod.Get, "/connect/userinfo");
        userinfo.Headers.Authorization = new AuthenticationHeaderValue("Bearer", first.Get("access_token"));
        (await _app.SendAsync(userinfo)).StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task Concurrent_redemptions_of_one_code_issue_tokens_at_most_once()
    {
        var (code, pkce) = await PhoneCodeAsync();

        var answers = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ =>
            Task.Run(() => CodeFlow.RedeemAsync(_app, "phone", code, CodeFlow.PhoneRedirect, pkce.Verifier))));

        answers.Count(a => a.Status == HttpStatusCode.OK).ShouldBe(1);
        answers.Where(a => a.Status != HttpStatusCode.OK).ShouldAllBe(a => a.Error == "invalid_grant");
    }

    [Fact]
    public async Task A_confidential_client_must_authenticate_to_redeem()
    {
        var answer = await CodeFlow.RedeemAsync(_app, AuthServerFactory.WebAppClientId, "whatever", AuthServerFactory.WebAppRedirectUri, CodeFlow.Pkce.New().Verifier);

        answer.Status.ShouldBe(HttpStatusCode.Unauthorized);
        answer.Error.ShouldBe("invalid_client");
    }

    [Fact]
    public async Task An_unknown_code_is_invalid_grant()
    {
        var answer = await CodeFlow.RedeemAsync(_app, "phone", "made-up", CodeFlow.PhoneRedirect, CodeFlow.Pkce.New().Verifier);

        answer.Error.ShouldBe("invalid_grant");
    }

    [Fact]
    public async Task The_code_is_stored_only_as_a_hash()
    {
        var (code, _) = await PhoneCodeAsync();

        await using var connection = await factory.OpenDatabaseAsync();
        // The code is OpenIddict's: its row records it (for single use) without holding the code itself.
        var type = ("@type", (object?)OpenIddict.Abstractions.OpenIddictConstants.TokenTypeIdentifiers.Private.AuthorizationCode);
        (await connection.ScalarAsync<long>("SELECT COUNT(*) FROM \"OpenIddictTokens\" WHERE \"Type\" = @type", type)).ShouldBeGreaterThanOrEqualTo(1);
        (await connection.ScalarAsync<long>("SELECT COUNT(*) FROM \"OpenIddictTokens\" WHERE \"Type\" = @type AND (\"Payload\" = @code OR \"ReferenceId\" = @code)",
            type, ("@code", code))).ShouldBe(0);
    }

    [Fact]
    public async Task The_phones_refresh_token_keeps_its_device()
    {
        var (code, pkce) = await PhoneCodeAsync();
        var tokens = await CodeFlow.RedeemAsync(_app, "phone", code, CodeFlow.PhoneRedirect, pkce.Verifier);

        var refreshed = await _app.RefreshAsync(tokens.Get("refresh_token"), clientId: "phone");

        refreshed.Status.ShouldBe(HttpStatusCode.OK);
        new JsonWebToken(refreshed.Get("access_token")).GetClaim("device_id").Value
            .ShouldBe(new JsonWebToken(tokens.Get("access_token")).GetClaim("device_id").Value);
    }
}
