using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace AuthServer.Bench;

/// <summary>The protocol as a waiting screen and a phone speak it, over real sockets.</summary>
public sealed partial class Client(Uri baseAddress)
{
    public HttpClient Http { get; } = new(new SocketsHttpHandler
    {
        MaxConnectionsPerServer = int.MaxValue,
        PooledConnectionLifetime = TimeSpan.FromMinutes(10),
        AllowAutoRedirect = false,
    })
    { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(60) };

    public sealed record Started(string DeviceCode, string UserCode);

    public async Task<Started> StartAsync(string clientId = "demo-tv", string scope = "openid offline_access api")
    {
        using var response = await Http.PostAsync("/connect/device", Form(("client_id", clientId), ("scope", scope), ("device_name", "bench")));
        var json = await ReadJsonAsync(response);
        return new Started(json.GetProperty("device_code").GetString()!, json.GetProperty("user_code").GetString()!);
    }

    public async Task<(HttpStatusCode Status, JsonElement Json)> PollAsync(string deviceCode, string clientId = "demo-tv")
    {
        using var response = await Http.PostAsync("/connect/token", Form(
            ("grant_type", "urn:ietf:params:oauth:grant-type:device_code"), ("device_code", deviceCode), ("client_id", clientId)));
        return (response.StatusCode, await ReadJsonAsync(response));
    }

    public async Task<(HttpStatusCode Status, JsonElement Json)> RefreshAsync(string refreshToken, string clientId = "demo-tv")
    {
        using var response = await Http.PostAsync("/connect/token", Form(
            ("grant_type", "refresh_token"), ("refresh_token", refreshToken), ("client_id", clientId)));
        return (response.StatusCode, await ReadJsonAsync(response));
    }

    /// <summary>The phone: scan, then approve with the confirm ticket.</summary>
    public async Task ScanAndApproveAsync(string phoneToken, string userCode)
    {
        var scanned = await ScanAsync(phoneToken, userCode);
        await ApproveAsync(phoneToken, scanned);
    }

    public sealed record Scanned(string ScanId, string ConfirmTicket);

    public async Task<Scanned> ScanAsync(string phoneToken, string userCode)
    {
        using var scan = new HttpRequestMessage(HttpMethod.Post, "/api/phone/scans")
        {
            Content = new StringContent(JsonSerializer.Serialize(new { code = userCode }), Encoding.UTF8, "application/json"),
        };
        scan.Headers.Authorization = new("Bearer", phoneToken);
        using var scanned = await Http.SendAsync(scan);
        var json = await ReadJsonAsync(scanned);
        if (scanned.StatusCode != HttpStatusCode.Created) throw new InvalidOperationException($"scan: {(int)scanned.StatusCode} {json}");
        return new Scanned(json.GetProperty("scan_id").GetString()!, json.GetProperty("confirm_ticket").GetString()!);
    }

    public async Task ApproveAsync(string phoneToken, Scanned scanned)
    {
        using var approve = new HttpRequestMessage(HttpMethod.Post, $"/api/phone/scans/{scanned.ScanId}/approve")
        {
            Content = new StringContent(JsonSerializer.Serialize(new { confirm_ticket = scanned.ConfirmTicket }), Encoding.UTF8, "application/json"),
        };
        approve.Headers.Authorization = new("Bearer", phoneToken);
        using var approved = await Http.SendAsync(approve);
        if (approved.StatusCode != HttpStatusCode.NoContent) throw new InvalidOperationException($"approve: {(int)approved.StatusCode}");
    }

    /// <summary>
    /// The stock OpenIddict server's approval (<c>bench/StockOpenIddict</c>): the user code posted to its end-user
    /// verification endpoint, approved there for its demo user (RFC 8628 §3.3).
    /// </summary>
    public async Task ApproveAtVerificationEndpointAsync(string userCode)
    {
        using var approved = await Http.PostAsync("/connect/verify", Form(("user_code", userCode)));
        if (approved.StatusCode != HttpStatusCode.OK)
            throw new InvalidOperationException($"verify: {(int)approved.StatusCode} {await approved.Content.ReadAsStringAsync()}");
    }

    /// <summary>
    /// The phone app's own token: sign in on the real pages, authorization code + PKCE for the first-party client
    /// <c>phone</c>, loopback redirect.
    /// </summary>
    public static async Task<string> PhoneTokenAsync(Uri baseAddress, string email, string password)
    {
        var cookies = new CookieContainer();
        using var browser = new HttpClient(new SocketsHttpHandler { CookieContainer = cookies, AllowAutoRedirect = false }) { BaseAddress = baseAddress };
        var login = await browser.GetStringAsync("/Identity/Account/Login");
        using var signedIn = await browser.PostAsync("/Identity/Account/Login", Form(
            ("Input.Email", email), ("Input.Password", password), ("__RequestVerificationToken", Antiforgery().Match(login).Groups[1].Value)));
        if (signedIn.StatusCode != HttpStatusCode.Redirect) throw new InvalidOperationException("sign-in failed");

        var verifier = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        var challenge = Convert.ToBase64String(SHA256.HashData(Encoding.ASCII.GetBytes(verifier))).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        const string redirect = "http://127.0.0.1:1/callback";
        using var authorized = await browser.GetAsync(
            $"/connect/authorize?response_type=code&client_id=phone&scope=openid%20phone_app&redirect_uri={Uri.EscapeDataString(redirect)}" +
            $"&code_challenge={challenge}&code_challenge_method=S256&state=bench");
        var code = Regex.Match(authorized.Headers.Location!.Query, "code=([^&]+)").Groups[1].Value;
        using var tokens = await browser.PostAsync("/connect/token", Form(
            ("grant_type", "authorization_code"), ("code", Uri.UnescapeDataString(code)), ("redirect_uri", redirect),
            ("code_verifier", verifier), ("client_id", "phone")));
        return (await ReadJsonAsync(tokens)).GetProperty("access_token").GetString()!;
    }

    public static FormUrlEncodedContent Form(params (string Key, string Value)[] fields) =>
        new(fields.Select(f => new KeyValuePair<string, string>(f.Key, f.Value)));

    private static async Task<JsonElement> ReadJsonAsync(HttpResponseMessage response)
    {
        var body = await response.Content.ReadAsStringAsync();
        return body.Length == 0 ? default : JsonDocument.Parse(body).RootElement.Clone();
    }

    [GeneratedRegex("name=\"__RequestVerificationToken\" type=\"hidden\" value=\"([^\"]+)\"")]
    private static partial Regex Antiforgery();
}
