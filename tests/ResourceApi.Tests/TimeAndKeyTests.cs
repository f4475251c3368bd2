using System.Net;
using System.Text.Json;
using AuthServer.Tests.Infrastructure;
using AuthServer.Tokens;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Protocols;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;
using Microsoft.IdentityModel.JsonWebTokens;
using ResourceApi.Tests.Infrastructure;

namespace ResourceApi.Tests;

/// <summary>Tests that move the clock or rotate keys, each with servers of its own.</summary>
public sealed class TimeAndKeyTests
{
    [Fact]
    public async Task An_expired_token_is_refused_after_the_clock_skew()
    {
        using var servers = new Servers();
        var api = servers.ApiClient();
        var access = (await servers.AuthServer.SignInDeviceAsync()).Get("access_token");
        (await api.GetAsync("/me", "Bearer", access)).StatusCode.ShouldBe(HttpStatusCode.OK);

        // The token lives 10 minutes; the API allows 30 seconds of skew between the two servers' clocks.
        servers.AuthServer.Clock.Advance(TimeSpan.FromMinutes(10) + TimeSpan.FromSeconds(20));
        (await api.GetAsync("/me", "Bearer", access)).StatusCode.ShouldBe(HttpStatusCode.OK);

        servers.AuthServer.Clock.Advance(TimeSpan.FromSeconds(11));
        BearerTokenTests.ShouldBeInvalidToken(await api.GetAsync("/me", "Bearer", access), "expired");
    }

    [Fact]
    public async Task A_token_not_valid_yet_is_refused_beyond_the_clock_skew()
    {
        using var servers = new Servers();
        var api = servers.ApiClient();
        var soon = servers.AuthServer.Mint(notBefore: TimeSpan.FromSeconds(20));
        (await api.GetAsync("/me", "Bearer", soon)).StatusCode.ShouldBe(HttpStatusCode.OK);

        var later = servers.AuthServer.Mint(notBefore: TimeSpan.FromMinutes(2));
        BearerTokenTests.ShouldBeInvalidToken(await api.GetAsync("/me", "Bearer", later), "not valid yet");
    }

    [Fact]
    public async Task After_key_rotation_new_and_old_tokens_validate_and_the_key_set_is_fetched_again_once()
    {
        using var servers = new Servers();
        var api = servers.ApiClient();
        var authServer = servers.AuthServer;
        var keys = authServer.Services.GetRequiredService<SigningKeyStore>();

        var old = (await authServer.SignInDeviceAsync()).Get("access_token");
        (await api.GetAsync("/me", "Bearer", old)).StatusCode.ShouldBe(HttpStatusCode.OK);
        servers.Api.JwksFetches.ShouldBe(1);
        var known = keys.ValidationKeys.Select(k => k.KeyId).ToHashSet();

        // Twice: the first rotation promotes the key that was already published as "next" (which the API has); the
        // second makes a key current that did not exist when the API fetched.
        await keys.RotateNowAsync();
        await keys.RotateNowAsync();
        var fresh = (await authServer.SignInDeviceAsync()).Get("access_token");
        var freshKid = new JsonWebToken(fresh).Kid;
        known.ShouldNotContain(freshKid);
        new JsonWebToken(old).Kid.ShouldNotBe(freshKid);

        // The unknown kid makes the handler fetch the key set again, for this very request: the new key is there …
        (await api.GetAsync("/me", "Bearer", fresh)).StatusCode.ShouldBe(HttpStatusCode.OK);
        servers.Api.JwksFetches.ShouldBe(2);

        // … and so is the retired key, so tokens it signed keep working until they expire.
        (await api.GetAsync("/me", "Bearer", old)).StatusCode.ShouldBe(HttpStatusCode.OK);
        (await api.GetAsync("/me", "Bearer", fresh)).StatusCode.ShouldBe(HttpStatusCode.OK);
        servers.Api.JwksFetches.ShouldBe(2);
    }

    [Fact]
    public async Task Made_up_key_ids_cause_at_most_one_fetch_per_interval()
    {
        using var servers = new Servers();
        var api = servers.ApiClient();
        var access = (await servers.AuthServer.SignInDeviceAsync()).Get("access_token");
        (await api.GetAsync("/me", "Bearer", access)).StatusCode.ShouldBe(HttpStatusCode.OK);

        // The first unknown kid fetches the key set again; the others come within the handler's refresh interval.
        for (var i = 0; i < 5; i++)
        {
            var forged = WithHeader(access, "kid", $"made-up-{i}");
            BearerTokenTests.ShouldBeInvalidToken(await api.GetAsync("/me", "Bearer", forged), "signature");
        }

        servers.Api.JwksFetches.ShouldBe(2);
        (await api.GetAsync("/me", "Bearer", access)).StatusCode.ShouldBe(HttpStatusCode.OK);
    }

    [Fact]
    public async Task The_key_set_settings_are_the_handlers_refresh_intervals()
    {
        // The handler's metadata cache runs on the system clock (it takes no TimeProvider), so what is checked here is
        // that the settings reach it; the fetches themselves are the framework's.
        using var servers = new Servers(new AuthServerFactory(), new() { ["KeySetLifetime"] = "02:00:00", ["MinimumKeyRefreshInterval"] = "00:00:45" });
        var api = servers.ApiClient();
        (await api.GetAsync("/me", "Bearer", servers.AuthServer.Mint())).StatusCode.ShouldBe(HttpStatusCode.OK);

        var jwt = servers.Api.Services.GetRequiredService<IOptionsMonitor<JwtBearerOptions>>().Get(JwtBearerDefaults.AuthenticationScheme);
        var metadata = jwt.ConfigurationManager.ShouldBeOfType<ConfigurationManager<OpenIdConnectConfiguration>>();
        metadata.MetadataAddress.ShouldBe(ResourceApiFactory.Authority + ".well-known/openid-configuration");
        metadata.AutomaticRefreshInterval.ShouldBe(TimeSpan.FromHours(2));
        metadata.RefreshInterval.ShouldBe(TimeSpan.FromSeconds(45));
        servers.Api.AuthorityRequests.ShouldBe(["/.well-known/openid-configuration", "/.well-known/jwks"]);
    }

    [Fact]
    public void A_key_set_lifetime_below_the_handlers_minimum_stops_start_up()
    {
        using var servers = new Servers(new AuthServerFactory(), new() { ["KeySetLifetime"] = "00:01:00" });

        var failure = Should.Throw<AggregateException>(() => servers.ApiClient());

        // Start-up validates every options type; the DPoP options read these settings too, so each reports it.
        var inner = failure.Flatten().InnerExceptions;
        inner.ShouldNotBeEmpty();
        inner.ShouldAllBe(e => e is OptionsValidationException);
        inner.Cast<OptionsValidationException>().SelectMany(e => e.Failures)
            .ShouldAllBe(message => message == "KeySetLifetime must be at least 00:05:00.");
    }

    [Fact]
    public async Task Metadata_that_names_another_issuer_is_not_trusted()
    {
        // RFC 8414 §3.3: the authorization server here says its issuer is another URL than the API was configured with.
        using var servers = new Servers(AuthServerFactory.With(new() { ["AuthServer:Issuer"] = "https://login.example.com" }));
        var api = servers.ApiClient();

        var response = await api.GetAsync("/me", "Bearer", servers.AuthServer.Mint(issuer: "https://login.example.com"));

        response.StatusCode.ShouldBe(HttpStatusCode.ServiceUnavailable);
        response.Headers.RetryAfter!.Delta.ShouldBe(TimeSpan.FromSeconds(30));
        response.Challenges().ShouldBeEmpty();
        (await response.Content.ReadAsStringAsync()).ShouldBeEmpty();
        // The metadata was read (the handler fetches its jwks_uri with it); its issuer is what made it untrusted.
        servers.Api.AuthorityRequests.ShouldContain("/.well-known/openid-configuration");
    }

    private static string[] KeyIds(string jwks) =>
        JsonDocument.Parse(jwks).RootElement.GetProperty("keys").EnumerateArray().Select(k => k.GetProperty("kid").GetString()!).ToArray();

    /// <summary>The token with one header member changed; the signature no longer matters, the kid is what counts.</summary>
    private static string WithHeader(string token, string name, string value)
    {
        var parts = token.Split('.');
        var header = JsonSerializer.Deserialize<Dictionary<string, object>>(Microsoft.IdentityModel.Tokens.Base64UrlEncoder.Decode(parts[0]))!;
        header[name] = value;
        return Microsoft.IdentityModel.Tokens.Base64UrlEncoder.Encode(JsonSerializer.Serialize(header)) + "." + parts[1] + "." + parts[2];
    }
}
