using System.Net;
using System.Net.Http.Headers;
using AuthServer.Tests.Infrastructure;
using AuthServer.Tokens;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace ResourceApi.Tests.Infrastructure;

/// <summary>Getting tokens from the in-memory AuthServer, and calling the resource API with them.</summary>
public static class Tokens
{
    /// <summary>What a client is: the authorization server's origin in the tests, which is also its issuer.</summary>
    public const string AuthServerOrigin = "http://localhost";

    /// <summary>The authorization server's issuer identifier (OpenIddict's, with its trailing slash).</summary>
    public const string AuthServerIssuer = "http://localhost/";

    /// <summary>The resource API's origin in the tests: what a proof's htu starts with.</summary>
    public const string ApiOrigin = "http://localhost";

    /// <summary>
    /// The device flow bound to <paramref name="key"/> from the start (RFC 9449 with RFC 8628): a proof at
    /// <c>/connect/device</c>, approval as the demo user, and a proof with every poll. Returns the token response.
    /// </summary>
    public static async Task<Protocol.Answer> SignInDeviceWithDpopAsync(this AuthServerFactory authServer, ProofKey key, string scope = Protocol.DemoScopes)
    {
        var device = authServer.CreateClient();
        var started = await device.PostWithProofAsync(authServer, key, "/connect/device",
            ("client_id", "demo-tv"), ("scope", scope), ("device_name", "DPoP screen"));
        started.Status.ShouldBe(HttpStatusCode.OK);
        await authServer.DecideAsDemoUserAsync(started.Get("user_code"), approve: true);
        var tokens = await device.PostWithProofAsync(authServer, key, "/connect/token",
            ("grant_type", Protocol.DeviceGrant), ("device_code", started.Get("device_code")), ("client_id", "demo-tv"));
        tokens.Status.ShouldBe(HttpStatusCode.OK);
        tokens.Get("token_type").ShouldBe("DPoP");
        return tokens;
    }

    /// <summary>
    /// A form POST to the authorization server with a DPoP proof. Its token and device endpoints require a server
    /// nonce (RFC 9449 §8): without a current one the first try answers <c>use_dpop_nonce</c> and a <c>DPoP-Nonce</c>
    /// header, and the request is sent again with it.
    /// </summary>
    public static async Task<Protocol.Answer> PostWithProofAsync(this HttpClient http, AuthServerFactory authServer, ProofKey key, string path, params (string Key, string Value)[] form)
    {
        for (var attempt = 0; ; attempt++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, path)
            {
                Content = new FormUrlEncodedContent(form.Select(p => new KeyValuePair<string, string>(p.Key, p.Value))),
            };
            request.Headers.Add("DPoP", key.Proof("POST", AuthServerOrigin + path, authServer.Clock.GetUtcNow(), nonce: key.Nonce));
            var answer = await Protocol.ReadAsync(await http.SendAsync(request));
            if (answer.Response.Headers.TryGetValues("DPoP-Nonce", out var nonces)) key.Nonce = nonces.Single();
            if (answer.Error == "use_dpop_nonce" && attempt == 0)
            {
                answer.Status.ShouldBe(HttpStatusCode.BadRequest);
                key.Nonce.ShouldNotBeNull();
                continue;
            }
            return answer;
        }
    }

    /// <summary>GET on the resource API with <c>Authorization: {scheme} {token}</c> and, when given, a DPoP proof.</summary>
    public static Task<HttpResponseMessage> GetAsync(this HttpClient api, string path, string scheme, string? token, string? proof = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, path);
        if (token is not null) request.Headers.Authorization = new AuthenticationHeaderValue(scheme, token);
        if (proof is not null) request.Headers.Add("DPoP", proof);
        return api.SendAsync(request);
    }

    /// <summary>A proof for GET on the API's <paramref name="path"/>, bound to <paramref name="accessToken"/>, made now.</summary>
    public static string ProofFor(this ProofKey key, AuthServerFactory authServer, string path, string? accessToken, string method = "GET") =>
        key.Proof(method, ApiOrigin + path, authServer.Clock.GetUtcNow(), accessToken);

    /// <summary>
    /// A token signed with the authorization server's current access-token key, with claims the test chooses: for
    /// tokens that are genuine in every way but one (audience, type, issuer …). <paramref name="notBefore"/> is how
    /// long from now the token becomes valid.
    /// </summary>
    public static string Mint(this AuthServerFactory authServer, string typ = "at+jwt", string audience = "api", string issuer = AuthServerIssuer,
        string scope = "api", string algorithm = SecurityAlgorithms.EcdsaSha256, TimeSpan notBefore = default, Dictionary<string, object>? extra = null)
    {
        var now = authServer.Clock.GetUtcNow();
        var claims = new Dictionary<string, object>
        {
            ["sub"] = "minted-subject",
            ["client_id"] = "demo-tv",
            ["scope"] = scope,
            ["jti"] = Guid.NewGuid().ToString("N"),
            ["device_id"] = "minted-device",
        };
        foreach (var (name, value) in extra ?? []) claims[name] = value;
        var keys = authServer.Services.GetRequiredService<SigningKeyStore>();
        return new JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false }.CreateToken(new SecurityTokenDescriptor
        {
            TokenType = typ,
            Issuer = issuer,
            Audience = audience,
            IssuedAt = now.UtcDateTime,
            NotBefore = now.Add(notBefore).UtcDateTime,
            Expires = now.Add(notBefore).AddMinutes(10).UtcDateTime,
            SigningCredentials = keys.GetSigningCredentials(algorithm),
            Claims = claims,
        });
    }

    /// <summary>The <c>WWW-Authenticate</c> challenges of a response, one string each.</summary>
    public static string[] Challenges(this HttpResponseMessage response) =>
        response.Headers.NonValidated.TryGetValues("WWW-Authenticate", out var values) ? values.ToArray() : [];
}
