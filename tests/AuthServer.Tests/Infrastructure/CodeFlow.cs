using System.Net;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.IdentityModel.Tokens;

namespace AuthServer.Tests.Infrastructure;

/// <summary>The authorization code flow with PKCE, as a client app drives it.</summary>
public static class CodeFlow
{
    public const string PhoneRedirect = "http://127.0.0.1:54321/callback";

    public sealed record Pkce(string Verifier, string Challenge)
    {
        public static Pkce New()
        {
            var verifier = Base64UrlEncoder.Encode(RandomNumberGenerator.GetBytes(32));
            return new(verifier, Base64UrlEncoder.Encode(SHA256.HashData(Encoding.ASCII.GetBytes(verifier))));
        }
    }

    public static string AuthorizeUrl(string clientId, string redirectUri, Pkce pkce, string scope, string? state = "s-123",
        string? nonce = "n-456", Dictionary<string, string?>? extra = null)
    {
        var query = new Dictionary<string, string?>
        {
            ["response_type"] = "code",
            ["client_id"] = clientId,
            ["redirect_uri"] = redirectUri,
            ["scope"] = scope,
            ["code_challenge"] = pkce.Challenge,
            ["code_challenge_method"] = "S256",
            ["state"] = state,
            ["nonce"] = nonce,
        };
        foreach (var (key, value) in extra ?? []) query[key] = value;
        return QueryHelpers.AddQueryString("/connect/authorize", query.Where(p => p.Value is not null));
    }

    /// <summary>Follows redirects inside the server until one leaves it; returns that absolute location.</summary>
    public static async Task<Uri> FollowUntilExternalAsync(this HttpClient browser, string url)
    {
        for (var hop = 0; hop < 10; hop++)
        {
            var response = await browser.GetAsync(url);
            if (response.StatusCode != HttpStatusCode.Redirect && response.StatusCode != HttpStatusCode.Found)
                throw new ShouldAssertException($"expected a redirect from {url}, got {(int)response.StatusCode}");
            var location = response.Headers.Location!;
            if (location.IsAbsoluteUri && location.Host != "localhost") return location;
            url = location.IsAbsoluteUri ? location.PathAndQuery : location.ToString();
        }
        throw new ShouldAssertException("too many redirects");
    }

    public static Dictionary<string, string> Query(Uri uri) =>
        QueryHelpers.ParseQuery(uri.Query).ToDictionary(p => p.Key, p => p.Value.ToString());

    /// <summary>Signed-in browser → authorize → the code on the redirect URI.</summary>
    public static async Task<string> GetCodeAsync(HttpClient browser, string clientId, string redirectUri, Pkce pkce, string scope, Dictionary<string, string?>? extra = null)
    {
        var landed = await browser.FollowUntilExternalAsync(AuthorizeUrl(clientId, redirectUri, pkce, scope, extra: extra));
        var query = Query(landed);
        query.ShouldContainKey("code", $"no code in {landed}");
        return query["code"];
    }

    public static Task<Protocol.Answer> RedeemAsync(HttpClient http, string clientId, string code, string redirectUri, string verifier, string? secret = null)
    {
        var form = new List<(string, string)>
        {
            ("grant_type", "authorization_code"), ("code", code), ("redirect_uri", redirectUri), ("code_verifier", verifier), ("client_id", clientId),
        };
        if (secret is not null) form.Add(("client_secret", secret));
        return http.PostFormAsync("/connect/token", [.. form]);
    }

    /// <summary>
    /// The third-party web app (confidential, needs consent) signs in the account <paramref name="browser"/> is signed
    /// in as: authorize, allow on the real consent page when it is asked, redeem. Returns the token answer.
    /// </summary>
    public static async Task<Protocol.Answer> WebAppTokensAsync(AuthServerFactory factory, HttpClient browser, string scope)
    {
        var pkce = Pkce.New();
        var response = await browser.GetAsync(AuthorizeUrl(AuthServerFactory.WebAppClientId, AuthServerFactory.WebAppRedirectUri, pkce, scope));
        response.StatusCode.ShouldBe(HttpStatusCode.Redirect);
        var location = response.Headers.Location!;
        if (!location.IsAbsoluteUri && location.ToString().StartsWith("/consent", StringComparison.Ordinal))
        {
            var consentPage = await browser.GetStringAsync(location.ToString());
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
        var tokens = await RedeemAsync(factory.CreateClient(), AuthServerFactory.WebAppClientId, Query(landed)["code"],
            AuthServerFactory.WebAppRedirectUri, pkce.Verifier, AuthServerFactory.WebAppSecret);
        tokens.Status.ShouldBe(HttpStatusCode.OK, $"body: {tokens.Json}");
        return tokens;
    }
}
