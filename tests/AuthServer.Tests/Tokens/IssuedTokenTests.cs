using AuthServer.Tests.Infrastructure;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace AuthServer.Tests.Tokens;

public sealed class IssuedTokenTests(AuthServerFactory factory) : IClassFixture<AuthServerFactory>
{
    private async Task<TokenValidationResult> ValidateAsync(string token, string audience, string type)
    {
        var jwks = new JsonWebKeySet(await factory.CreateClient().GetStringAsync("/.well-known/jwks"));
        return await new JsonWebTokenHandler().ValidateTokenAsync(token, new TokenValidationParameters
        {
            ValidIssuer = "http://localhost/",
            ValidAudience = audience,
            ValidTypes = [type],
            IssuerSigningKeys = jwks.GetSigningKeys(),
            // The server's clock is the fake one; validate lifetimes against it.
            LifetimeValidator = (notBefore, expires, _, _) =>
                (notBefore ?? DateTime.MinValue) <= factory.Clock.GetUtcNow().UtcDateTime && factory.Clock.GetUtcNow().UtcDateTime < expires,
        });
    }

    [Fact]
    public async Task The_jwks_publishes_the_current_and_next_ES256_and_RS256_keys_without_private_parts()
    {
        var response = await factory.CreateClient().GetAsync("/.well-known/jwks");
        // OpenIddict answers the JWKS as application/json, which every JWKS client accepts.
        response.Content.Headers.ContentType!.MediaType.ShouldBe("application/json");
        var jwks = new JsonWebKeySet(await response.Content.ReadAsStringAsync());

        // Current and next (published ahead of use) for each algorithm.
        jwks.Keys.Select(k => k.Alg).ShouldBe(["ES256", "ES256", "RS256", "RS256"], ignoreOrder: true);
        jwks.Keys.Select(k => k.Kid).Distinct().Count().ShouldBe(4);
        jwks.Keys.ShouldAllBe(k => k.Use == "sig" && !string.IsNullOrEmpty(k.Kid));
        jwks.Keys.ShouldAllBe(k => k.D == null && k.P == null && k.Q == null && k.DP == null && k.DQ == null && k.QI == null);
    }

    [Fact]
    public async Task The_access_token_is_an_RFC_9068_JWT_signed_ES256_that_verifies_against_the_jwks()
    {
        var tokens = await factory.SignInDeviceAsync();

        var result = await ValidateAsync(tokens.Get("access_token"), "api", "at+jwt");

        result.IsValid.ShouldBeTrue(result.Exception?.Message);
        var jwt = (JsonWebToken)result.SecurityToken;
        jwt.Alg.ShouldBe("ES256");
        jwt.Typ.ShouldBe("at+jwt");
        jwt.Subject.ShouldNotBeNullOrEmpty();
        jwt.GetClaim("client_id").Value.ShouldBe("demo-tv");
        jwt.GetClaim("scope").Value.ShouldBe("openid profile offline_access api");
        jwt.GetClaim("jti").Value.ShouldNotBeNullOrEmpty();
        jwt.GetClaim("device_id").Value.ShouldNotBeNullOrEmpty();
        (jwt.ValidTo - jwt.IssuedAt).ShouldBe(TimeSpan.FromMinutes(10));
    }

    [Fact]
    public async Task The_id_token_is_signed_with_the_clients_registered_algorithm_for_the_client_and_names_the_user()
    {
        // demo-tv is registered with IdTokenSignedResponseAlg ES256.
        var tokens = await factory.SignInDeviceAsync();

        var result = await ValidateAsync(tokens.Get("id_token"), "demo-tv", "JWT");

        result.IsValid.ShouldBeTrue(result.Exception?.Message);
        var jwt = (JsonWebToken)result.SecurityToken;
        jwt.Alg.ShouldBe("ES256");
        jwt.GetClaim("preferred_username").Value.ShouldBe(AuthServerFactory.DemoEmail);
        jwt.GetClaim("name").Value.ShouldBe("Demo User");
        jwt.GetClaim("auth_time").Value.ShouldNotBeNullOrEmpty();
        var access = new JsonWebToken(tokens.Get("access_token"));
        jwt.Subject.ShouldBe(access.Subject);
        jwt.GetClaim("device_id").Value.ShouldBe(access.GetClaim("device_id").Value);
    }

    [Fact]
    public async Task A_client_that_names_no_algorithm_gets_RS256_ID_tokens_the_OIDC_default()
    {
        using var defaults = AuthServerFactory.With(new() { ["Clients:demo-tv:IdTokenSignedResponseAlg"] = null });
        var tokens = await defaults.SignInDeviceAsync();

        var idToken = new JsonWebToken(tokens.Get("id_token"));
        idToken.Alg.ShouldBe("RS256");
        new JsonWebToken(tokens.Get("access_token")).Alg.ShouldBe("ES256");
        var jwks = new JsonWebKeySet(await defaults.CreateClient().GetStringAsync("/.well-known/jwks"));
        jwks.Keys.Where(k => k.Kid == idToken.Kid).Select(k => k.Alg).ShouldBe(["RS256"]);
    }

    [Fact]
    public async Task A_token_signed_by_another_key_does_not_verify()
    {
        var tokens = await factory.SignInDeviceAsync();
        var parts = tokens.Get("access_token").Split('.');
        var forged = string.Join('.', parts[0], parts[1], Base64UrlEncoder.Encode(new byte[64]));

        var result = await ValidateAsync(forged, "api", "at+jwt");

        result.IsValid.ShouldBeFalse();
    }

    [Fact]
    public async Task Every_sign_in_gets_its_own_device_id()
    {
        var first = new JsonWebToken((await factory.SignInDeviceAsync()).Get("access_token"));
        var second = new JsonWebToken((await factory.SignInDeviceAsync()).Get("access_token"));

        first.GetClaim("device_id").Value.ShouldNotBe(second.GetClaim("device_id").Value);
        first.Subject.ShouldBe(second.Subject);
    }

    [Fact]
    public async Task Signing_keys_are_stored_with_their_private_part_encrypted()
    {
        await using var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={factory.DatabasePath}");
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT \"ProtectedPrivateKey\" FROM \"SigningKeys\"";
        await using var reader = await command.ExecuteReaderAsync();
        var count = 0;
        while (await reader.ReadAsync())
        {
            count++;
            var stored = Convert.FromBase64String(reader.GetString(0));
            // Data Protection payloads start with its magic header 0x09F0C9F0, never with a PKCS#8 SEQUENCE (0x30).
            stored[..4].ShouldBe(new byte[] { 0x09, 0xF0, 0xC9, 0xF0 });
        }
        count.ShouldBe(4);
    }
}
