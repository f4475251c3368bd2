using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace AuthServer.Tests.Infrastructure;

/// <summary>
/// A DPoP client (RFC 9449) for tests: its own key pair (ECDSA P-256 or RSA 2048), proofs built by hand as compact JWS
/// so every field can be bent for the negative cases, its RFC 7638 thumbprint computed independently of the server,
/// and requests that carry a proof and retry once on <c>use_dpop_nonce</c> with the <c>DPoP-Nonce</c> the server
/// answered, as real clients do. Proof times come from the test's clock.
/// </summary>
public sealed class DpopKey : IDisposable
{
    public const string Header = "DPoP";
    public const string NonceHeader = "DPoP-Nonce";
    public const string ProofType = "dpop+jwt";

    private readonly ECDsa? _ec;
    private readonly RSA? _rsa;
    private readonly TimeProvider _clock;

    private DpopKey(TimeProvider clock, ECDsa? ec, RSA? rsa)
    {
        _clock = clock;
        _ec = ec;
        _rsa = rsa;
    }

    /// <summary>An ES256 key (ECDSA P-256): what most DPoP clients use.</summary>
    public static DpopKey Ec(TimeProvider clock) => new(clock, ECDsa.Create(ECCurve.NamedCurves.nistP256), null);

    /// <summary>An RS256 key (RSA 2048).</summary>
    public static DpopKey Rsa(TimeProvider clock) => new(clock, null, RSA.Create(2048));

    /// <summary>The algorithm this key signs with.</summary>
    public string Alg => _ec is not null ? "ES256" : "RS256";

    /// <summary>The last nonce the server gave (<c>DPoP-Nonce</c>); the next proof of <see cref="SendAsync"/> carries it.</summary>
    public string? Nonce { get; set; }

    /// <summary>How many times <see cref="SendAsync"/> had to retry because the server asked for a (fresh) nonce.</summary>
    public int NonceRetries { get; private set; }

    /// <summary>
    /// The public key as the <c>jwk</c> header carries it. Members are deliberately not in the canonical order, so a
    /// server that hashed the header as sent would compute a wrong thumbprint. <paramref name="includePrivate"/> adds
    /// the private part (<c>d</c>, and for RSA the CRT members), which a server must refuse.
    /// </summary>
    public JsonObject PublicJwk(bool includePrivate = false)
    {
        if (_ec is not null)
        {
            var p = _ec.ExportParameters(includePrivate);
            var jwk = new JsonObject { ["kty"] = "EC", ["x"] = B64(p.Q.X!), ["y"] = B64(p.Q.Y!), ["crv"] = "P-256" };
            if (includePrivate) jwk["d"] = B64(p.D!);
            return jwk;
        }
        var r = _rsa!.ExportParameters(includePrivate);
        var rsa = new JsonObject { ["n"] = B64(r.Modulus!), ["kty"] = "RSA", ["e"] = B64(r.Exponent!) };
        if (includePrivate)
        {
            rsa["d"] = B64(r.D!);
            rsa["p"] = B64(r.P!);
            rsa["q"] = B64(r.Q!);
            rsa["dp"] = B64(r.DP!);
            rsa["dq"] = B64(r.DQ!);
            rsa["qi"] = B64(r.InverseQ!);
        }
        return rsa;
    }

    /// <summary>
    /// The RFC 7638 thumbprint: base64url SHA-256 of the required members in lexicographic order, without white space
    /// (§3.2): <c>{"crv","kty","x","y"}</c> for EC, <c>{"e","kty","n"}</c> for RSA. Computed here, not by the server.
    /// </summary>
    public string Jkt
    {
        get
        {
            string canonical;
            if (_ec is not null)
            {
                var p = _ec.ExportParameters(false);
                canonical = $"{{\"crv\":\"P-256\",\"kty\":\"EC\",\"x\":\"{B64(p.Q.X!)}\",\"y\":\"{B64(p.Q.Y!)}\"}}";
            }
            else
            {
                var r = _rsa!.ExportParameters(false);
                canonical = $"{{\"e\":\"{B64(r.Exponent!)}\",\"kty\":\"RSA\",\"n\":\"{B64(r.Modulus!)}\"}}";
            }
            return B64(SHA256.HashData(Encoding.UTF8.GetBytes(canonical)));
        }
    }

    /// <summary>The <c>ath</c> claim for an access token (RFC 9449 §4.2): base64url SHA-256 of its ASCII bytes.</summary>
    public static string Ath(string accessToken) => B64(SHA256.HashData(Encoding.ASCII.GetBytes(accessToken)));

    /// <summary>
    /// A DPoP proof JWT, built by hand. Header <c>{typ, alg, jwk}</c>, claims <c>{jti, htm, htu, iat, nonce?, ath?}</c>.
    /// Every argument beyond the request can bend one rule: <paramref name="typ"/> null leaves <c>typ</c> out;
    /// <paramref name="alg"/> <c>none</c> leaves the signature empty, <c>HS256</c> signs with an HMAC secret, anything
    /// else is written as given and signed with this key; <paramref name="jwkOverride"/> puts another key in the header
    /// while this one signs. <paramref name="url"/> is used as <c>htu</c> verbatim.
    /// </summary>
    public string Proof(string method, string url, string? nonce = null, string? accessToken = null, DateTimeOffset? iat = null,
        string? jti = null, string? typ = ProofType, string? alg = null, bool includePrivate = false, JsonObject? jwkOverride = null)
    {
        alg ??= Alg;
        var header = new JsonObject();
        if (typ is not null) header["typ"] = typ;
        header["alg"] = alg;
        header["jwk"] = jwkOverride is null ? PublicJwk(includePrivate) : JsonNode.Parse(jwkOverride.ToJsonString());

        var claims = new JsonObject
        {
            ["jti"] = jti ?? Guid.NewGuid().ToString("N"),
            ["htm"] = method,
            ["htu"] = url,
            ["iat"] = (iat ?? _clock.GetUtcNow()).ToUnixTimeSeconds(),
        };
        if (nonce is not null) claims["nonce"] = nonce;
        if (accessToken is not null) claims["ath"] = Ath(accessToken);

        var signingInput = B64(Encoding.UTF8.GetBytes(header.ToJsonString())) + "." + B64(Encoding.UTF8.GetBytes(claims.ToJsonString()));
        var data = Encoding.ASCII.GetBytes(signingInput);
        byte[] signature = alg switch
        {
            "none" => [],
            "HS256" => HMACSHA256.HashData(Encoding.ASCII.GetBytes("a-shared-secret-proves-nothing-about-a-key"), data),
            _ when _ec is not null => _ec.SignData(data, HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation),
            _ => _rsa!.SignData(data, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1),
        };
        return signingInput + "." + B64(signature);
    }

    /// <summary>The <c>htu</c> for a request: its absolute URI without query and fragment (RFC 9449 §4.2).</summary>
    public static string HtuOf(HttpClient http, HttpRequestMessage request)
    {
        var uri = request.RequestUri!.IsAbsoluteUri ? request.RequestUri : new Uri(http.BaseAddress!, request.RequestUri);
        return uri.GetLeftPart(UriPartial.Path);
    }

    /// <summary>The absolute URL of a path on the test server, as a proof's <c>htu</c>.</summary>
    public static string Url(HttpClient http, string path) => new Uri(http.BaseAddress!, path).GetLeftPart(UriPartial.Path);

    /// <summary>
    /// Sends a request with a proof from this key (with <see cref="Nonce"/>, and <c>ath</c> when
    /// <paramref name="accessToken"/> is given). Should the server answer <c>use_dpop_nonce</c>, the request is built
    /// again and retried once with the nonce it sent. Every <c>DPoP-Nonce</c> answered is remembered.
    /// </summary>
    public async Task<HttpResponseMessage> SendAsync(HttpClient http, Func<HttpRequestMessage> createRequest, string? accessToken = null,
        HttpCompletionOption completion = HttpCompletionOption.ResponseContentRead, CancellationToken cancellationToken = default)
    {
        for (var attempt = 0; ; attempt++)
        {
            var request = createRequest();
            request.Headers.TryAddWithoutValidation(Header, Proof(request.Method.Method, HtuOf(http, request), Nonce, accessToken));
            var response = await http.SendAsync(request, completion, cancellationToken);
            if (NonceOf(response) is not { } nonce) return response;
            Nonce = nonce;
            if (attempt > 0 || !await AsksForNonceAsync(response)) return response;
            NonceRetries++;
            response.Dispose();
        }
    }

    /// <summary>A form POST with a proof (token, device authorization, revocation endpoints), read as an answer.</summary>
    public async Task<Protocol.Answer> PostFormAsync(HttpClient http, string path, params (string Key, string Value)[] form) =>
        await Protocol.ReadAsync(await SendAsync(http, () => new HttpRequestMessage(HttpMethod.Post, path)
        {
            Content = new FormUrlEncodedContent(form.Select(p => new KeyValuePair<string, string>(p.Key, p.Value))),
        }));

    /// <summary>A request to a protected resource with <c>Authorization: DPoP</c> and a proof bound to the token.</summary>
    public async Task<Protocol.Answer> CallAsync(HttpClient http, HttpMethod method, string path, string accessToken, HttpContent? content = null)
    {
        // The body is sent again should the server ask for a nonce.
        var body = content is null ? null : await content.ReadAsByteArrayAsync();
        return await Protocol.ReadAsync(await SendAsync(http, () =>
        {
            var request = new HttpRequestMessage(method, path);
            if (body is not null)
            {
                request.Content = new ByteArrayContent(body);
                foreach (var (name, values) in content!.Headers) request.Content.Headers.TryAddWithoutValidation(name, values);
            }
            request.Headers.Authorization = new AuthenticationHeaderValue("DPoP", accessToken);
            return request;
        }, accessToken));
    }

    // ---- The device flow, bound to this key ----

    /// <summary>Starts a device login with a proof, which binds the request to this key.</summary>
    public Task<Protocol.Answer> StartAsync(HttpClient http, string clientId = "demo-tv", string scope = Protocol.DemoScopes, string? dpopJkt = null)
    {
        var form = new List<(string, string)> { ("client_id", clientId), ("scope", scope) };
        if (dpopJkt is not null) form.Add(("dpop_jkt", dpopJkt));
        return PostFormAsync(http, "/connect/device", [.. form]);
    }

    public Task<Protocol.Answer> PollAsync(HttpClient http, string deviceCode, string clientId = "demo-tv") =>
        PostFormAsync(http, "/connect/token", ("grant_type", Protocol.DeviceGrant), ("device_code", deviceCode), ("client_id", clientId));

    public Task<Protocol.Answer> RefreshAsync(HttpClient http, string refreshToken, string clientId = "demo-tv") =>
        PostFormAsync(http, "/connect/token", ("grant_type", "refresh_token"), ("refresh_token", refreshToken), ("client_id", clientId));

    public static string? NonceOf(HttpResponseMessage response) =>
        response.Headers.TryGetValues(NonceHeader, out var values) ? values.SingleOrDefault() : null;

    /// <summary>400 <c>use_dpop_nonce</c> (authorization server, §8) or 401 with that error in the challenge (resource, §9).</summary>
    private static async Task<bool> AsksForNonceAsync(HttpResponseMessage response)
    {
        if (response.StatusCode == HttpStatusCode.Unauthorized)
            return response.Headers.WwwAuthenticate.ToString().Contains("error=\"use_dpop_nonce\"", StringComparison.Ordinal);
        if (response.StatusCode != HttpStatusCode.BadRequest) return false;
        var body = await response.Content.ReadAsStringAsync();
        try
        {
            using var json = JsonDocument.Parse(body);
            return json.RootElement.TryGetProperty("error", out var error) && error.GetString() == "use_dpop_nonce";
        }
        catch (JsonException)
        {
            return false;
        }
    }

    private static string B64(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    public void Dispose()
    {
        _ec?.Dispose();
        _rsa?.Dispose();
    }
}
