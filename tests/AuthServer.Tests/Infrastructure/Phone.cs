using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using AuthServer.Data.Entities;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.IdentityModel.JsonWebTokens;

namespace AuthServer.Tests.Infrastructure;

/// <summary>
/// The signed-in phone app: it gets its own token the way the real app does (authorization code + PKCE as client
/// <c>phone</c>, loopback redirect, through the real sign-in page) and calls the phone API with it. Every call returns
/// the status and the parsed JSON (problem details on errors). Named <c>PhoneApp</c> so it does not clash with the
/// <c>Phone</c> namespaces of the server and of the tests.
/// </summary>
public sealed class PhoneApp
{
    public const string Scope = "openid profile offline_access phone_app";
    public const string Prefix = "/api/phone";

    private readonly HttpClient _http;

    private PhoneApp(HttpClient http, string email, Protocol.Answer tokens)
    {
        _http = http;
        Email = email;
        AccessToken = tokens.Get("access_token");
        RefreshToken = tokens.Json.TryGetProperty("refresh_token", out var refresh) ? refresh.GetString() : null;
        DeviceId = new JsonWebToken(AccessToken).GetClaim("device_id").Value;
    }

    public string Email { get; }
    public string AccessToken { get; }
    public string? RefreshToken { get; }

    /// <summary>The phone's own linked device (the <c>device_id</c> claim of its token).</summary>
    public string DeviceId { get; }

    /// <summary>The client address of the phone's next calls (the test server's <c>X-Test-Remote-Ip</c>); null: none.</summary>
    public string? RemoteIp { get; set; }

    /// <summary>
    /// Signs a phone in: the demo user unless <paramref name="account"/> is given. Every call is a new linked device, so
    /// signing in twice with one account gives that account two phones.
    /// </summary>
    public static async Task<PhoneApp> SignInAsync(AuthServerFactory factory, (string Email, string Password)? account = null,
        string scope = Scope, string? remoteIp = null, string? deviceName = "Test phone")
    {
        var (email, password) = account ?? (AuthServerFactory.DemoEmail, AuthServerFactory.DemoPassword);
        var browser = factory.CreateBrowser(remoteIp);
        await browser.SignInAsync(email, password);
        var pkce = CodeFlow.Pkce.New();
        var code = await CodeFlow.GetCodeAsync(browser, "phone", CodeFlow.PhoneRedirect, pkce, scope,
            deviceName is null ? null : new() { ["device_name"] = deviceName });

        var http = factory.CreateClient();
        if (remoteIp is not null) http.DefaultRequestHeaders.Add(AuthServerFactory.RemoteIpHeader, remoteIp);
        var tokens = await CodeFlow.RedeemAsync(http, "phone", code, CodeFlow.PhoneRedirect, pkce.Verifier);
        tokens.Status.ShouldBe(HttpStatusCode.OK, $"the phone's code should redeem: {tokens.Json}");
        return new PhoneApp(factory.CreateClient(), email, tokens) { RemoteIp = remoteIp };
    }

    /// <summary>
    /// Signs a phone in to a server in another process, over real HTTP: <paramref name="browser"/> keeps cookies and
    /// does not follow redirects, <paramref name="api"/> is a plain client of the same server.
    /// </summary>
    public static async Task<PhoneApp> SignInAsync(HttpClient browser, HttpClient api,
        string email = AuthServerFactory.DemoEmail, string password = AuthServerFactory.DemoPassword)
    {
        await browser.SignInAsync(email, password);
        var pkce = CodeFlow.Pkce.New();
        var code = await CodeFlow.GetCodeAsync(browser, "phone", CodeFlow.PhoneRedirect, pkce, Scope, new() { ["device_name"] = "Test phone" });
        var tokens = await CodeFlow.RedeemAsync(api, "phone", code, CodeFlow.PhoneRedirect, pkce.Verifier);
        tokens.Status.ShouldBe(HttpStatusCode.OK, $"the phone's code should redeem: {tokens.Json}");
        return new PhoneApp(api, email, tokens);
    }

    /// <summary>
    /// Creates a fresh account, so a test about one account's devices, claims or failed sign-ins sees only its own.
    /// </summary>
    public static async Task<(string Email, string Password)> NewAccountAsync(
        AuthServerFactory factory, string prefix = "phone", string password = "Phone-Password-1")
    {
        var email = $"{prefix}-{Guid.NewGuid():N}@example.com";
        await using var scope = factory.Services.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<ApplicationUser>>();
        (await users.CreateAsync(new ApplicationUser { UserName = email, Email = email, EmailConfirmed = true }, password))
            .Succeeded.ShouldBeTrue();
        return (email, password);
    }

    /// <summary>A fresh account with its phone signed in.</summary>
    public static async Task<PhoneApp> SignInNewAccountAsync(AuthServerFactory factory, string? remoteIp = null) =>
        await SignInAsync(factory, await NewAccountAsync(factory), remoteIp: remoteIp);

    public Task<Protocol.Answer> ScanAsync(string code) => SendAsync(HttpMethod.Post, $"{Prefix}/scans", JsonContent.Create(new { code }));

    public Task<Protocol.Answer> ApproveAsync(string scanId, string? confirmTicket, int? number = null) =>
        SendAsync(HttpMethod.Post, $"{Prefix}/scans/{Uri.EscapeDataString(scanId)}/approve",
            JsonContent.Create(new Dictionary<string, object?> { ["confirm_ticket"] = confirmTicket, ["number"] = number }));

    public Task<Protocol.Answer> DenyAsync(string scanId, string? confirmTicket) =>
        SendAsync(HttpMethod.Post, $"{Prefix}/scans/{Uri.EscapeDataString(scanId)}/deny",
            JsonContent.Create(new Dictionary<string, object?> { ["confirm_ticket"] = confirmTicket }));

    public Task<Protocol.Answer> DevicesAsync() => SendAsync(HttpMethod.Get, $"{Prefix}/devices");

    /// <summary>Logs a linked device out (<c>DELETE /api/phone/devices/{id}</c>).</summary>
    public Task<Protocol.Answer> LogOutAsync(string deviceId) =>
        SendAsync(HttpMethod.Delete, $"{Prefix}/devices/{Uri.EscapeDataString(deviceId)}");

    /// <summary>A successful scan: asserts 201 and returns what the approve or deny call needs.</summary>
    public async Task<Scan> ScanOkAsync(string code)
    {
        var answer = await ScanAsync(code);
        answer.Status.ShouldBe(HttpStatusCode.Created, $"the scan should succeed: {answer.Json}");
        return new Scan(answer.Get("scan_id"), answer.Get("confirm_ticket"),
            answer.Json.TryGetProperty("number_choices", out var choices) && choices.ValueKind == JsonValueKind.Array
                ? choices.EnumerateArray().Select(c => c.GetInt32()).ToArray()
                : null,
            answer);
    }

    /// <summary>Scans and approves (204): the whole phone side.</summary>
    public async Task ScanAndApproveAsync(string userCode)
    {
        var scan = await ScanOkAsync(userCode);
        (await ApproveAsync(scan.ScanId, scan.ConfirmTicket)).Status.ShouldBe(HttpStatusCode.NoContent);
    }

    /// <summary>Any request to the phone API with this phone's token and address.</summary>
    public Task<Protocol.Answer> SendAsync(HttpMethod method, string path, HttpContent? content = null) =>
        SendAsync(_http, method, path, AccessToken, RemoteIp, content);

    /// <summary>Any request with any (or no) bearer token: for the tests of who may call the phone API.</summary>
    public static async Task<Protocol.Answer> SendAsync(HttpClient http, HttpMethod method, string path, string? bearer,
        string? remoteIp = null, HttpContent? content = null)
    {
        using var request = new HttpRequestMessage(method, path) { Content = content };
        if (bearer is not null) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
        if (remoteIp is not null) request.Headers.Add(AuthServerFactory.RemoteIpHeader, remoteIp);
        return await Protocol.ReadAsync(await http.SendAsync(request));
    }

    public sealed record Scan(string ScanId, string ConfirmTicket, int[]? NumberChoices, Protocol.Answer Answer);
}
