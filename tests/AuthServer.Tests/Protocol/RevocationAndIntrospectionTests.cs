using OpenIddict.Abstractions;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using AuthServer.Data;
using AuthServer.Tests.Infrastructure;
using AuthServer.Tokens;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.IdentityModel.JsonWebTokens;

namespace AuthServer.Tests.Protocol;

/// <summary>Token revocation (RFC 7009) and token introspection (RFC 7662).</summary>
public abstract class RevocationAndIntrospectionTests(AuthServerFactory factory)
{
    public sealed class OnSqlite(AuthServerFactory server) : RevocationAndIntrospectionTests(server), IClassFixture<AuthServerFactory>;

    public sealed class OnPostgreSql(PostgreSqlAuthServerFactory server) : RevocationAndIntrospectionTests(server), IClassFixture<PostgreSqlAuthServerFactory>;

    /// <summary>
    /// The resource server of the Development settings: a confidential client that only introspects, whose client id is
    /// the audience it serves (RFC 7662 §4: a token is described only to the resource it was issued for).
    /// </summary>
    private const string ApiClientId = "api";
    private const string ApiSecret = "demo-api-secret-change-me-0123456789";

    private readonly HttpClient _device = factory.CreateClient();

    private static string Basic(string clientId, string secret) =>
        Convert.ToBase64String(Encoding.UTF8.GetBytes($"{Uri.EscapeDataString(clientId)}:{Uri.EscapeDataString(secret)}"));

    private async Task<Infrastructure.Protocol.Answer> PostAsync(string path, (string ClientId, string Secret)? basic, params (string Key, string Value)[] form)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path)
        {
            Content = new FormUrlEncodedContent(form.Select(p => new KeyValuePair<string, string>(p.Key, p.Value))),
        };
        if (basic is { } credentials) request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Basic(credentials.ClientId, credentials.Secret));
        return await Infrastructure.Protocol.ReadAsync(await factory.CreateClient().SendAsync(request));
    }

    /// <summary>The public TV revokes one of its tokens (client_id only, as a public client authenticates).</summary>
    private Task<Infrastructure.Protocol.Answer> RevokeAsTvAsync(string token, string? hint = null) =>
        hint is null
            ? _device.PostFormAsync("/connect/revoke", ("token", token), ("client_id", "demo-tv"))
            : _device.PostFormAsync("/connect/revoke", ("token", token), ("token_type_hint", hint), ("client_id", "demo-tv"));

    /// <summary>The resource server asks about a token, with client_secret_basic.</summary>
    private Task<Infrastructure.Protocol.Answer> IntrospectAsync(string token) =>
        PostAsync("/connect/introspect", (ApiClientId, ApiSecret), ("token", token));

    private async Task<Infrastructure.Protocol.Answer> UserinfoAsync(string token)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/connect/userinfo");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return await Infrastructure.Protocol.ReadAsync(await _device.SendAsync(request));
    }

    private static void ShouldBeOkAndEmpty(Infrastructure.Protocol.Answer answer)
    {
        answer.Status.ShouldBe(HttpStatusCode.OK, $"body: {answer.Json}");
        answer.Response.Headers.CacheControl!.NoStore.ShouldBeTrue();
    }

    /// <summary>RFC 7662 §2.2: an inactive token is <c>{"active":false}</c> and nothing else.</summary>
    private static void ShouldBeInactive(Infrastructure.Protocol.Answer answer)
    {
        answer.Status.ShouldBe(HttpStatusCode.OK, $"body: {answer.Json}");
        answer.Response.Headers.CacheControl!.NoStore.ShouldBeTrue();
        answer.Json.ValueKind.ShouldBe(JsonValueKind.Object);
        answer.Json.EnumerateObject().Select(p => p.Name).ShouldBe(["active"]);
        answer.Json.GetProperty("active").GetBoolean().ShouldBeFalse();
    }

    private static void ShouldBeInvalidClient(Infrastructure.Protocol.Answer answer)
    {
        answer.Status.ShouldBe(HttpStatusCode.Unauthorized, $"body: {answer.Json}");
        answer.Error.ShouldBe("invalid_client");
        answer.Response.Headers.WwwAuthenticate.ShouldNotBeEmpty();
    }

    /// <summary>The third-party web app (confidential) signs the demo user in through the real sign-in and consent pages.</summary>
    private async Task<Infrastructure.Protocol.Answer> WebAppTokensAsync(string scope = "openid profile offline_access api")
    {
        var browser = factory.CreateBrowser();
        await browser.SignInAsync();
        return await CodeFlow.WebAppTokensAsync(factory, browser, scope);
    }

    private static readonly (string, string) WebApp = (AuthServerFactory.WebAppClientId, AuthServerFactory.WebAppSecret);

    // ---- Revocation (RFC 7009) ----

    [Fact]
    public async Task Revoking_a_refresh_token_revokes_its_whole_family_including_the_rotated_successor()
    {
        var first = await factory.SignInDeviceAsync();
        var successor = await _device.RefreshAsync(first.Get("refresh_token"));
        successor.Status.ShouldBe(HttpStatusCode.OK);

        // The client revokes the token it started with (already rotated): the live successor goes with it.
        var revoked = await RevokeAsTvAsync(first.Get("refresh_token"));

        ShouldBeOkAndEmpty(revoked);
        // RFC 7009 §2.2: 200 with no content to speak of (OpenIddict writes an empty JSON object).
        (await revoked.Response.Content.ReadAsStringAsync()).Trim().ShouldBeOneOf("", "{}");
        var refresh = await _device.RefreshAsync(successor.Get("refresh_token"));
        refresh.Status.ShouldBe(HttpStatusCode.BadRequest);
        refresh.Error.ShouldBe("invalid_grant");
    }

    [Fact]
    public async Task Revoking_a_refresh_token_also_ends_the_access_tokens_of_the_same_grant()
    {
        var tokens = await factory.SignInDeviceAsync();
        (await UserinfoAsync(tokens.Get("access_token"))).Status.ShouldBe(HttpStatusCode.OK);

        ShouldBeOkAndEmpty(await RevokeAsTvAsync(tokens.Get("refresh_token")));

        // RFC 7009 §2.1: the grant's access tokens should be invalidated as well.
        (await UserinfoAsync(tokens.Get("access_token"))).Status.ShouldBe(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task Revoking_the_current_refresh_token_ends_it_and_revoking_again_is_still_200()
    {
        var tokens = await factory.SignInDeviceAsync();

        ShouldBeOkAndEmpty(await RevokeAsTvAsync(tokens.Get("refresh_token")));

        (await _device.RefreshAsync(tokens.Get("refresh_token"))).Error.ShouldBe("invalid_grant");
        ShouldBeOkAndEmpty(await RevokeAsTvAsync(tokens.Get("refresh_token")));
    }

    [Fact]
    public async Task Revoking_an_unknown_token_answers_200()
    {
        ShouldBeOkAndEmpty(await RevokeAsTvAsync("not-a-token-this-server-issued"));
    }

    [Fact]
    public async Task Revocation_without_a_token_is_invalid_request()
    {
        var answer = await _device.PostFormAsync("/connect/revoke", ("client_id", "demo-tv"));

        answer.Status.ShouldBe(HttpStatusCode.BadRequest);
        answer.Error.ShouldBe("invalid_request");
    }

    [Fact]
    public async Task Revocation_requires_client_authentication()
    {
        var tokens = await factory.SignInDeviceAsync();

        ShouldBeInvalidClient(await _device.PostFormAsync("/connect/revoke", ("token", tokens.Get("refresh_token"))));
        ShouldBeInvalidClient(await PostAsync("/connect/revoke", (AuthServerFactory.WebAppClientId, "wrong-secret"), ("token", tokens.Get("refresh_token"))));

        (await _device.RefreshAsync(tokens.Get("refresh_token"))).Status.ShouldBe(HttpStatusCode.OK);
    }

    [Fact]
    public async Task Revoking_another_clients_refresh_token_is_refused_and_the_token_keeps_working()
    {
        var tokens = await factory.SignInDeviceAsync();

        var answer = await PostAsync("/connect/revoke", WebApp, ("token", tokens.Get("refresh_token")));

        // OpenIddict answers as for a token it does not know (RFC 7009 §2.2), so nothing is learnt about another
        // client's tokens; what matters is that the token is left alone.
        answer.Status.ShouldBeOneOf(HttpStatusCode.OK, HttpStatusCode.BadRequest);
        (await _device.RefreshAsync(tokens.Get("refresh_token"))).Status.ShouldBe(HttpStatusCode.OK);
    }

    [Fact]
    public async Task Revoking_another_clients_access_token_is_refused_and_the_token_keeps_working()
    {
        var tokens = await factory.SignInDeviceAsync();

        var answer = await PostAsync("/connect/revoke", WebApp, ("token", tokens.Get("access_token")), ("token_type_hint", "access_token"));

        // As above: answered like an unknown token, and the token keeps working.
        answer.Status.ShouldBeOneOf(HttpStatusCode.OK, HttpStatusCode.BadRequest);
        (await UserinfoAsync(tokens.Get("access_token"))).Status.ShouldBe(HttpStatusCode.OK);
        (await IntrospectAsync(tokens.Get("access_token"))).Json.GetProperty("active").GetBoolean().ShouldBeTrue();
    }

    [Fact]
    public async Task Revoking_an_access_token_ends_it_at_userinfo_and_introspection()
    {
        var tokens = await factory.SignInDeviceAsync();
        (await UserinfoAsync(tokens.Get("access_token"))).Status.ShouldBe(HttpStatusCode.OK);

        ShouldBeOkAndEmpty(await RevokeAsTvAsync(tokens.Get("access_token"), hint: "access_token"));

        var userinfo = await UserinfoAsync(tokens.Get("access_token"));
        userinfo.Status.ShouldBe(HttpStatusCode.Unauthorized);
        userinfo.Error.ShouldBe("invalid_token");
        ShouldBeInactive(await IntrospectAsync(tokens.Get("access_token")));
        // Only the access token was revoked: the refresh token still works.
        (await _device.RefreshAsync(tokens.Get("refresh_token"))).Status.ShouldBe(HttpStatusCode.OK);
    }

    [Fact]
    public async Task An_access_token_is_revoked_without_a_hint_too()
    {
        var tokens = await factory.SignInDeviceAsync();

        ShouldBeOkAndEmpty(await RevokeAsTvAsync(tokens.Get("access_token")));

        (await UserinfoAsync(tokens.Get("access_token"))).Status.ShouldBe(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task The_token_type_hint_is_only_a_hint_a_wrong_one_still_revokes()
    {
        var tokens = await factory.SignInDeviceAsync();

        ShouldBeOkAndEmpty(await RevokeAsTvAsync(tokens.Get("refresh_token"), hint: "access_token"));
        ShouldBeOkAndEmpty(await RevokeAsTvAsync(tokens.Get("access_token"), hint: "refresh_token"));

        (await _device.RefreshAsync(tokens.Get("refresh_token"))).Error.ShouldBe("invalid_grant");
        (await UserinfoAsync(tokens.Get("access_token"))).Status.ShouldBe(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task An_unknown_token_type_hint_is_ignored()
    {
        var tokens = await factory.SignInDeviceAsync();

        ShouldBeOkAndEmpty(await RevokeAsTvAsync(tokens.Get("refresh_token"), hint: "something_else"));

        (await _device.RefreshAsync(tokens.Get("refresh_token"))).Error.ShouldBe("invalid_grant");
    }

    // ---- Introspection (RFC 7662) ----

    private static void ShouldDescribe(Infrastructure.Protocol.Answer answer, string accessToken, string tokenType)
    {
        answer.Status.ShouldBe(HttpStatusCode.OK, $"body: {answer.Json}");
        answer.Response.Headers.CacheControl!.NoStore.ShouldBeTrue();
        var jwt = new JsonWebToken(accessToken);
        var json = answer.Json;
        json.GetProperty("active").GetBoolean().ShouldBeTrue();
        json.GetProperty("scope").GetString().ShouldBe(jwt.GetClaim("scope").Value);
        json.GetProperty("client_id").GetString().ShouldBe(jwt.GetClaim("client_id").Value);
        json.GetProperty("sub").GetString().ShouldBe(jwt.Subject);
        json.GetProperty("exp").GetInt64().ShouldBe(new DateTimeOffset(jwt.ValidTo).ToUnixTimeSeconds());
        json.GetProperty("iat").GetInt64().ShouldBe(new DateTimeOffset(jwt.IssuedAt).ToUnixTimeSeconds());
        json.GetProperty("iss").GetString().ShouldBe("http://localhost/");
        var aud = json.GetProperty("aud");
        (aud.ValueKind == JsonValueKind.Array ? aud.EnumerateArray().Select(a => a.GetString()).ToArray() : [aud.GetString()]).ShouldBe(["api"]);
        json.GetProperty("jti").GetString().ShouldBe(jwt.Id);
        json.GetProperty("token_type").GetString().ShouldBe(tokenType);
        json.GetProperty("device_id").GetString().ShouldBe(jwt.GetClaim("device_id").Value);
    }

    [Fact]
    public async Task A_resource_server_introspects_an_active_access_token_with_client_secret_basic()
    {
        var tokens = await factory.SignInDeviceAsync();

        var answer = await IntrospectAsync(tokens.Get("access_token"));

        ShouldDescribe(answer, tokens.Get("access_token"), "Bearer");
        answer.Json.GetProperty("client_id").GetString().ShouldBe("demo-tv");
        answer.Json.GetProperty("scope").GetString().ShouldBe(Infrastructure.Protocol.DemoScopes);
        answer.Json.TryGetProperty("cnf", out _).ShouldBeFalse();
    }

    [Fact]
    public async Task A_resource_server_introspects_an_active_access_token_with_client_secret_post()
    {
        var tokens = await factory.SignInDeviceAsync();

        var answer = await PostAsync("/connect/introspect", null,
            ("token", tokens.Get("access_token")), ("client_id", ApiClientId), ("client_secret", ApiSecret));

        ShouldDescribe(answer, tokens.Get("access_token"), "Bearer");
    }

    [Fact]
    public async Task Introspecting_a_DPoP_bound_token_gives_its_key_thumbprint_in_cnf()
    {
        using var key = DpopKey.Ec(factory.Clock);
        var started = await key.StartAsync(_device);
        started.Status.ShouldBe(HttpStatusCode.OK, $"body: {started.Json}");
        await factory.DecideAsDemoUserAsync(started.Get("user_code"), approve: true);
        var tokens = await key.PollAsync(_device, started.Get("device_code"));
        tokens.Status.ShouldBe(HttpStatusCode.OK, $"body: {tokens.Json}");

        var answer = await IntrospectAsync(tokens.Get("access_token"));

        ShouldDescribe(answer, tokens.Get("access_token"), "DPoP");
        answer.Json.GetProperty("cnf").GetProperty("jkt").GetString().ShouldBe(key.Jkt);
    }

    [Fact]
    public async Task An_expired_access_token_is_inactive_and_nothing_more_is_said()
    {
        var tokens = await factory.SignInDeviceAsync();
        (await IntrospectAsync(tokens.Get("access_token"))).Json.GetProperty("active").GetBoolean().ShouldBeTrue();

        factory.Clock.Advance(TimeSpan.FromMinutes(10) + TimeSpan.FromSeconds(1));

        ShouldBeInactive(await IntrospectAsync(tokens.Get("access_token")));
    }

    [Fact]
    public async Task An_unknown_or_malformed_token_is_inactive()
    {
        ShouldBeInactive(await IntrospectAsync("not-a-token"));
        ShouldBeInactive(await IntrospectAsync("eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0."));
    }

    [Fact]
    public async Task An_ID_token_is_not_an_access_token_and_is_inactive()
    {
        var tokens = await factory.SignInDeviceAsync();

        ShouldBeInactive(await IntrospectAsync(tokens.Get("id_token")));
    }

    [Fact]
    public async Task The_token_of_a_device_logged_out_through_the_phone_API_is_inactive()
    {
        var tokens = await factory.SignInDeviceAsync();
        var deviceId = new JsonWebToken(tokens.Get("access_token")).GetClaim("device_id").Value;
        var phone = await PhoneApp.SignInAsync(factory);

        (await phone.LogOutAsync(deviceId)).Status.ShouldBe(HttpStatusCode.NoContent);

        ShouldBeInactive(await IntrospectAsync(tokens.Get("access_token")));
        (await _device.RefreshAsync(tokens.Get("refresh_token"))).Error.ShouldBe("invalid_grant");
    }

    [Fact]
    public async Task The_token_of_a_device_logged_out_on_the_server_is_inactive()
    {
        var tokens = await factory.SignInDeviceAsync();
        var deviceId = new JsonWebToken(tokens.Get("access_token")).GetClaim("device_id").Value;

        await using (var scope = factory.Services.CreateAsyncScope())
        {
            var services = scope.ServiceProvider;
            (await LinkedDevices.LogOutAsync(services.GetRequiredService<AuthServer.Data.AuthServerDbContext>(), services.GetRequiredService<IOpenIddictAuthorizationManager>(),
                services.GetRequiredService<IOpenIddictTokenManager>(), deviceId, userId: null, CancellationToken.None)).ShouldBeTrue();
        }

        ShouldBeInactive(await IntrospectAsync(tokens.Get("access_token")));
    }

    [Fact]
    public async Task A_public_client_may_not_introspect()
    {
        var tokens = await factory.SignInDeviceAsync();

        var answer = await _device.PostFormAsync("/connect/introspect", ("token", tokens.Get("access_token")), ("client_id", "demo-tv"));

        // The TV is registered without the introspection permission (only confidential clients get it).
        answer.Status.ShouldBe(HttpStatusCode.BadRequest, $"body: {answer.Json}");
        answer.Error.ShouldBe("unauthorized_client");
        answer.Json.TryGetProperty("active", out _).ShouldBeFalse();
    }

    [Fact]
    public async Task Introspection_without_client_authentication_is_invalid_client()
    {
        var tokens = await factory.SignInDeviceAsync();

        ShouldBeInvalidClient(await _device.PostFormAsync("/connect/introspect", ("token", tokens.Get("access_token"))));
        ShouldBeInvalidClient(await PostAsync("/connect/introspect", (ApiClientId, "wrong-secret"), ("token", tokens.Get("access_token"))));
    }

    [Fact]
    public async Task A_refresh_token_is_active_for_its_own_client_and_inactive_for_any_other()
    {
        var tokens = await WebAppTokensAsync();
        var refreshToken = tokens.Get("refresh_token");

        var own = await PostAsync("/connect/introspect", WebApp, ("token", refreshToken));

        own.Status.ShouldBe(HttpStatusCode.OK, $"body: {own.Json}");
        own.Json.GetProperty("active").GetBoolean().ShouldBeTrue();
        own.Json.GetProperty("client_id").GetString().ShouldBe(AuthServerFactory.WebAppClientId);
        own.Json.GetProperty("scope").GetString().ShouldBe("openid profile offline_access api");
        var access = new JsonWebToken(tokens.Get("access_token"));
        own.Json.GetProperty("sub").GetString().ShouldBe(access.Subject);
        own.Json.GetProperty("device_id").GetString().ShouldBe(access.GetClaim("device_id").Value);
        own.Json.GetProperty("exp").GetInt64().ShouldBeGreaterThan(factory.Clock.GetUtcNow().ToUnixTimeSeconds());
        own.Json.GetProperty("iat").GetInt64().ShouldBe(factory.Clock.GetUtcNow().ToUnixTimeSeconds());

        ShouldBeInactive(await IntrospectAsync(refreshToken));
        ShouldBeInactive(await PostAsync("/connect/introspect", (AuthServerFactory.SecretClientId, AuthServerFactory.SecretClientSecret), ("token", refreshToken)));
    }

    [Fact]
    public async Task A_rotated_or_revoked_refresh_token_is_inactive()
    {
        var tokens = await WebAppTokensAsync();
        var rotated = await PostAsync("/connect/token", WebApp, ("grant_type", "refresh_token"), ("refresh_token", tokens.Get("refresh_token")));
        rotated.Status.ShouldBe(HttpStatusCode.OK, $"body: {rotated.Json}");

        (await PostAsync("/connect/introspect", WebApp, ("token", rotated.Get("refresh_token")))).Json.GetProperty("active").GetBoolean().ShouldBeTrue();
        // A rotated token may still be retried within the reuse leeway; after it, it is inactive.
        factory.Clock.Advance(TimeSpan.FromSeconds(31));
        ShouldBeInactive(await PostAsync("/connect/introspect", WebApp, ("token", tokens.Get("refresh_token"))));

        ShouldBeOkAndEmpty(await PostAsync("/connect/revoke", WebApp, ("token", rotated.Get("refresh_token"))));
        ShouldBeInactive(await PostAsync("/connect/introspect", WebApp, ("token", rotated.Get("refresh_token"))));
    }
}
