using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace AuthServer.Tests.Infrastructure;

/// <summary>Speaks the protocol the way a device does: form posts, JSON answers.</summary>
public static class Protocol
{
    public const string DeviceGrant = "urn:ietf:params:oauth:grant-type:device_code";
    public const string DemoScopes = "openid profile offline_access api";

    public sealed record Answer(HttpStatusCode Status, JsonElement Json, HttpResponseMessage Response)
    {
        public string? Error => Json.TryGetProperty("error", out var e) ? e.GetString() : null;
        public string Get(string name) => Json.GetProperty(name).GetString()!;
    }

    public static async Task<Answer> PostFormAsync(this HttpClient http, string path, params (string Key, string Value)[] form)
    {
        var response = await http.PostAsync(path, new FormUrlEncodedContent(form.Select(p => new KeyValuePair<string, string>(p.Key, p.Value))));
        return await ReadAsync(response);
    }

    public static async Task<Answer> ReadAsync(HttpResponseMessage response)
    {
        var body = await response.Content.ReadAsStringAsync();
        var json = body.Length > 0 && response.Content.Headers.ContentType?.MediaType?.Contains("json") == true
            ? JsonDocument.Parse(body).RootElement.Clone()
            : default;
        return new Answer(response.StatusCode, json, response);
    }

    public static Task<Answer> StartAsync(this HttpClient http, string clientId = "demo-tv", string scope = DemoScopes, string? deviceName = "Living room TV")
    {
        var form = new List<(string, string)> { ("client_id", clientId), ("scope", scope) };
        if (deviceName is not null) form.Add(("device_name", deviceName));
        return http.PostFormAsync("/connect/device", [.. form]);
    }

    public static Task<Answer> PollAsync(this HttpClient http, string deviceCode, string clientId = "demo-tv") =>
        http.PostFormAsync("/connect/token", ("grant_type", DeviceGrant), ("device_code", deviceCode), ("client_id", clientId));

    /// <summary>RFC 6749 §4.4 with <c>client_secret_basic</c> (§2.3.1: both parts form-encoded before base64).</summary>
    public static async Task<Answer> ClientCredentialsAsync(this HttpClient http, string clientId, string secret, string scope = "api")
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/connect/token")
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string> { ["grant_type"] = "client_credentials", ["scope"] = scope }),
        };
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Basic",
            Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes($"{Uri.EscapeDataString(clientId)}:{Uri.EscapeDataString(secret)}")));
        return await ReadAsync(await http.SendAsync(request));
    }

    public static Task<Answer> RefreshAsync(this HttpClient http, string refreshToken, string clientId = "demo-tv", string? scope = null)
    {
        var form = new List<(string, string)> { ("grant_type", "refresh_token"), ("refresh_token", refreshToken), ("client_id", clientId) };
        if (scope is not null) form.Add(("scope", scope));
        return http.PostFormAsync("/connect/token", [.. form]);
    }
}
