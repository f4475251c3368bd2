using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using AuthServer.Cli.Cache;
using AuthServer.Cli.Protocol;
using AuthServer.Cli.Terminal;
using Microsoft.IdentityModel.Tokens;

namespace AuthServer.Cli.Commands;

/// <summary>
/// The phone app's side, for demos and scripts: sign in as the first-party <c>phone</c> client, scan a waiting
/// screen's code, approve or deny it, list and log out linked devices (docs/phone-api.md).
/// </summary>
public sealed class PhoneCommands(CliContext context, bool json)
{
    public const string PhoneClient = "phone";
    private const string PhoneScope = "openid profile offline_access phone_app";
    private static readonly TimeSpan BrowserTimeout = TimeSpan.FromMinutes(5);

    private readonly Output _output = context.Output(json);

    /// <summary>
    /// The phone client allows only the authorization code grant with PKCE on a loopback redirect (RFC 8252 §7.3), so
    /// that is what this does: it listens on 127.0.0.1 on a free port, sends the browser to the authorization
    /// endpoint, and redeems the code the browser brings back.
    /// </summary>
    public async Task<int> LoginAsync(string server, string? deviceName, bool openBrowser, CancellationToken cancellation)
    {
        var address = ServerAddress.Parse(server);
        var cache = context.Cache();
        using var key = DpopKey.LoadOrCreate(cache, context.Time);
        using var client = new ServerClient(address, key, context);
        var endpoints = await client.EndpointsAsync(cancellation);

        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        try
        {
            var redirect = $"http://127.0.0.1:{((IPEndPoint)listener.LocalEndpoint).Port}/callback";
            var verifier = Base64UrlEncoder.Encode(RandomNumberGenerator.GetBytes(32));
            var challenge = Base64UrlEncoder.Encode(SHA256.HashData(Encoding.ASCII.GetBytes(verifier)));
            var state = Base64UrlEncoder.Encode(RandomNumberGenerator.GetBytes(16));
            var query = new Dictionary<string, string>
            {
                ["response_type"] = "code",
                ["client_id"] = PhoneClient,
                ["redirect_uri"] = redirect,
                ["scope"] = PhoneScope,
                ["code_challenge"] = challenge,
                ["code_challenge_method"] = "S256",
                ["state"] = state,
                ["device_name"] = deviceName ?? $"authserver phone on {Environment.MachineName}",
            };
            var url = endpoints.Authorization + "?" + string.Join('&', query.Select(p => $"{p.Key}={Uri.EscapeDataString(p.Value)}"));
            if (json) context.Out.WriteLine(new JsonObject { ["event"] = "browser", ["url"] = url }.ToJsonString());
            else _output.Line($"Sign in as the phone in your browser:\n  {_output.Cyan(url)}");
            context.Out.Flush();
            if (openBrowser && _output.IsTerminal) TryOpenBrowser(url);

            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
            timeout.CancelAfter(BrowserTimeout);
            Dictionary<string, string> callback;
            try
            {
                callback = await AcceptCallbackAsync(listener, timeout.Token);
            }
            catch (OperationCanceledException) when (!cancellation.IsCancellationRequested)
            {
                throw new CliException(ExitCodes.Expired, $"No sign-in came back from the browser within {BrowserTimeout.TotalMinutes} minutes.");
            }
            if (!callback.TryGetValue("state", out var returned) || !CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(returned), Encoding.ASCII.GetBytes(state)))
                throw new CliException(ExitCodes.Error, "The browser came back with the wrong state: the sign-in was not the one this command started.");
            // RFC 9207 §2.4: the server says it sends iss (authorization_response_iss_parameter_supported), so an
            // answer without it, or from another issuer, is refused (mix-up attacks).
            if (!callback.TryGetValue("iss", out var iss) || iss != address.Issuer)
                throw new CliException(ExitCodes.Error, $"The sign-in came back from {iss ?? "an unnamed issuer"}, not {address.Issuer}.");
            if (callback.TryGetValue("error", out var error))
            {
                var description = callback.GetValueOrDefault("error_description");
                throw error == "access_denied"
                    ? new CliException(ExitCodes.Denied, "The sign-in was cancelled in the browser.")
                    : new CliException(ExitCodes.Error, $"The sign-in failed: {error}{(description is null ? "" : $": {description}")}");
            }
            if (!callback.TryGetValue("code", out var code))
                throw new CliException(ExitCodes.Error, "The browser came back without an authorization code.");

            var answer = await client.PostFormAsync(endpoints.Token, new Dictionary<string, string>
            {
                ["grant_type"] = "authorization_code",
                ["client_id"] = PhoneClient,
                ["code"] = code,
                ["redirect_uri"] = redirect,
                ["code_verifier"] = verifier,
            }, cancellation);
            if (!answer.Ok) throw new CliException(ExitCodes.Error, $"The server refused the code: {answer.Describe()}");
            var entry = TokenResponse.ToEntry(answer, address, PhoneClient, context.Time.GetUtcNow());
            cache.Save(entry);
            if (json) context.Out.WriteLine(new JsonObject { ["event"] = "signed_in", ["server"] = entry.Server, ["user"] = entry.UserName, ["device_id"] = entry.DeviceId }.ToJsonString());
            else _output.Line($"{_output.Green("✓")} Signed in to {entry.Server} as the phone of {entry.UserName ?? entry.Subject}.");
            return ExitCodes.Ok;
        }
        finally
        {
            listener.Stop();
        }
    }

    /// <summary>Shows who is asking; on a terminal, asks whether to approve. The confirm ticket stays in this process's memory.</summary>
    public Task<int> ScanAsync(string? server, string code, CancellationToken cancellation) =>
        DecideAsync(server, code, decision: null, number: null, cancellation);

    /// <summary>
    /// Scans and decides in one process. A scan returns a one-time confirm ticket that the docs say to keep in memory,
    /// and a new scan by the same account replaces it, so approve and deny scan again rather than store a ticket.
    /// </summary>
    public async Task<int> DecideAsync(string? server, string code, bool? decision, int? number, CancellationToken cancellation)
    {
        code = code.Trim();
        if (code.Length == 0 || code.Length > 2000 || code.Any(char.IsControl))
            throw CliException.Usage("Give the code the screen shows (e.g. BCDF-GHJK) or the URL its QR code holds.");
        var (client, entry, key) = await SignedInAsync(server, cancellation);
        using (key)
        using (client)
        {
            var scan = await CallAsync(client, entry, HttpMethod.Post, "api/phone/scans", new JsonObject { ["code"] = code }, cancellation);
            if (!scan.Ok) throw ScanFailure(scan);
            var scanId = scan.Text("scan_id");
            var ticket = scan.Text("confirm_ticket");
            var choices = scan.Json?["number_choices"]?.AsArray().Select(n => n!.GetValue<int>()).ToArray();
            ShowScan(scan, choices);

            if (decision is null)
            {
                if (!context.InIsTerminal || !_output.IsTerminal)
                {
                    _output.Line(_output.Dim("Not decided: run `authserver phone approve` or `phone deny` with the same code."));
                    return ExitCodes.Ok;
                }
                (decision, number) = Ask(choices);
            }
            if (decision == true && choices is { Length: > 0 } && number is null)
            {
                if (!context.InIsTerminal) throw CliException.Usage(
                    $"This client uses number matching: pass --number with the number the screen shows (one of {string.Join(", ", choices)}).");
                (_, number) = Ask(choices);
            }
            var body = new JsonObject { ["confirm_ticket"] = ticket };
            if (decision == true && number is { } n) body["number"] = n;
            var answer = await CallAsync(client, entry, HttpMethod.Post, $"api/phone/scans/{Uri.EscapeDataString(scanId)}/{(decision == true ? "approve" : "deny")}", body, cancellation);
            if (!answer.Ok)
            {
                throw answer.Error == "Wrong number"
                    ? new CliException(ExitCodes.Denied, "Wrong number: the login request is now denied.", "The screen must start over.")
                    : new CliException(ExitCodes.Error, $"The server refused the decision: {answer.Describe()}");
            }
            if (json) _output.WriteJson(new JsonObject { ["scan_id"] = scanId, ["decision"] = decision == true ? "approved" : "denied" });
            else _output.Line(decision == true ? $"{_output.Green("✓")} Approved." : $"{_output.Red("✗")} Denied.");
            return ExitCodes.Ok;
        }
    }

    public async Task<int> DevicesAsync(string? server, CancellationToken cancellation)
    {
        var (client, entry, key) = await SignedInAsync(server, cancellation);
        using (key)
        using (client)
        {
            var answer = await CallAsync(client, entry, HttpMethod.Get, "api/phone/devices", null, cancellation);
            if (!answer.Ok) throw new CliException(ExitCodes.Error, $"The server refused the device list: {answer.Describe()}");
            if (json)
            {
                _output.WriteJson(answer.Json!);
                return ExitCodes.Ok;
            }
            foreach (var device in answer.Json!.AsArray())
            {
                var current = device!["current"]?.GetValue<bool>() == true ? _output.Green(" (this phone)") : "";
                _output.Line($"{_output.Bold(device["id"]!.GetValue<string>())}  {device["name"]?.GetValue<string>() ?? "(unnamed)"}{current}");
                _output.Line($"    {device["client"]?["name"]?.GetValue<string>()}, last used {device["last_used_at"]?.GetValue<string>()} from {device["ip"]?.GetValue<string>()}");
            }
            return ExitCodes.Ok;
        }
    }

    public async Task<int> LogoutDeviceAsync(string? server, string deviceId, CancellationToken cancellation)
    {
        if (!Guid.TryParse(deviceId, out _))
            throw CliException.Usage($"'{deviceId}' is not a device id.", "`authserver phone devices` lists them.");
        var (client, entry, key) = await SignedInAsync(server, cancellation);
        using (key)
        using (client)
        {
            var answer = await CallAsync(client, entry, HttpMethod.Delete, $"api/phone/devices/{deviceId}", null, cancellation);
            if (answer.Status == HttpStatusCode.NotFound)
                throw CliException.Usage($"No signed-in device of this account has the id {deviceId}.", "`authserver phone devices` lists them.");
            if (!answer.Ok) throw new CliException(ExitCodes.Error, $"The server refused the logout: {answer.Describe()}");
            // The phone logged itself out: its tokens no longer work, so forget them.
            if (string.Equals(deviceId, entry.DeviceId, StringComparison.OrdinalIgnoreCase)) context.Cache().Remove(entry);
            if (json) _output.WriteJson(new JsonObject { ["device_id"] = deviceId, ["logged_out"] = true });
            else _output.Line($"{_output.Green("✓")} Logged out device {deviceId}.");
            return ExitCodes.Ok;
        }
    }

    private async Task<(ServerClient, CacheEntry, DpopKey)> SignedInAsync(string? server, CancellationToken cancellation)
    {
        var cache = context.Cache();
        CacheEntry entry;
        try
        {
            entry = cache.Find(server, PhoneClient);
        }
        catch (CliException ex) when (ex.ExitCode == ExitCodes.NotSignedIn)
        {
            throw new CliException(ExitCodes.NotSignedIn, ex.Message.Replace("signed in", "signed in as a phone", StringComparison.Ordinal),
                "Run `authserver phone login --server <url>` first.");
        }
        var key = DpopKey.LoadOrCreate(cache, context.Time);
        var client = new ServerClient(ServerAddress.Parse(entry.Server), key, context);
        var (fresh, _) = await TokenResponse.FreshAsync(entry, client, cache, context.Time, cancellation);
        return (client, fresh, key);
    }

    private static Task<Answer> CallAsync(ServerClient client, CacheEntry entry, HttpMethod method, string path, JsonNode? body, CancellationToken cancellation) =>
        client.CallAsync(method, client.Server.Resolve(path), entry.AccessToken, entry.TokenType, body, cancellation);

    private static CliException ScanFailure(Answer scan) => (int)scan.Status switch
    {
        404 => CliException.Usage($"No login request has this code ({scan.Describe()})."),
        409 => new CliException(ExitCodes.Error, "Another account scanned this code first; only it may decide (RFC 8628 §5.5)."),
        410 => new CliException(ExitCodes.Expired, "This code's login request is closed: expired, replaced by a new QR code, or already decided."),
        401 => CliException.NotSignedIn($"The phone's token was refused ({scan.Describe()})."),
        429 => new CliException(ExitCodes.Error, $"Too many scans; retry in {scan.Headers.RetryAfter?.Delta?.TotalSeconds ?? 60} s."),
        _ => new CliException(ExitCodes.Error, $"The scan failed: {scan.Describe()}"),
    };

    /// <summary>Who is asking, as the server saw the waiting screen: what lets the user spot phishing (RFC 8628 §5.4).</summary>
    private void ShowScan(Answer scan, int[]? choices)
    {
        if (json)
        {
            var copy = scan.Json!.DeepClone().AsObject();
            copy.Remove("confirm_ticket");
            context.Out.WriteLine(copy.ToJsonString());
            return;
        }
        var json2 = scan.Json!;
        _output.Line($"{_output.Bold(DisplayText.Safe(json2["client"]?["name"]?.GetValue<string>() ?? "An app"))} wants to sign in as you, with the code {_output.Bold(json2["user_code"]?.GetValue<string>() ?? "")}.");
        var requester = json2["requester"];
        _output.Line($"  device   {DisplayText.Safe(requester?["device_name"]?.GetValue<string>() ?? "(unnamed)")}");
        _output.Line($"  from     {requester?["ip"]?.GetValue<string>()} ({DisplayText.Safe(requester?["user_agent"]?.GetValue<string>())})");
        _output.Line($"  asked at {requester?["created_at"]?.GetValue<string>()}");
        _output.Line($"  scopes   {string.Join(' ', json2["scopes"]?.AsArray().Select(s => s!.GetValue<string>()) ?? [])}");
        if (choices is { Length: > 0 }) _output.Line($"  number   pick the one the screen shows: {string.Join(", ", choices)}");
    }

    private (bool, int?) Ask(int[]? choices)
    {
        while (true)
        {
            context.Out.Write(choices is { Length: > 0 }
                ? $"Type the number the screen shows to approve ({string.Join(", ", choices)}), or n to deny: "
                : "Approve this sign-in? [y/N] ");
            context.Out.Flush();
            var line = context.In.ReadLine()?.Trim() ?? "";
            if (choices is { Length: > 0 })
            {
                if (int.TryParse(line, out var n) && choices.Contains(n)) return (true, n);
                if (line is "n" or "N" or "") return (false, null);
                continue;
            }
            return (line is "y" or "Y" or "yes", null);
        }
    }

    private static async Task<Dictionary<string, string>> AcceptCallbackAsync(TcpListener listener, CancellationToken cancellation)
    {
        while (true)
        {
            using var connection = await listener.AcceptTcpClientAsync(cancellation);
            await using var stream = connection.GetStream();
            using var reader = new StreamReader(stream, Encoding.ASCII, leaveOpen: true);
            var requestLine = await reader.ReadLineAsync(cancellation) ?? "";
            while (!string.IsNullOrEmpty(await reader.ReadLineAsync(cancellation))) { }
            var parts = requestLine.Split(' ');
            var target = parts.Length >= 2 ? parts[1] : "";
            var isCallback = parts.Length >= 2 && parts[0] == "GET" && target.StartsWith("/callback", StringComparison.Ordinal);
            var page = isCallback
                ? "<!doctype html><title>Signed in</title><p>You can close this tab and go back to the terminal."
                : "<!doctype html><title>Not found</title><p>Nothing here.";
            var bytes = Encoding.UTF8.GetBytes(page);
            var head = $"HTTP/1.1 {(isCallback ? "200 OK" : "404 Not Found")}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {bytes.Length}\r\nConnection: close\r\nCache-Control: no-store\r\n\r\n";
            await stream.WriteAsync(Encoding.ASCII.GetBytes(head), cancellation);
            await stream.WriteAsync(bytes, cancellation);
            if (!isCallback) continue;
            var queryStart = target.IndexOf('?');
            return (queryStart < 0 ? "" : target[(queryStart + 1)..])
                .Split('&', StringSplitOptions.RemoveEmptyEntries)
                .Select(p => p.Split('=', 2))
                .GroupBy(p => Uri.UnescapeDataString(p[0]))
                .ToDictionary(g => g.Key, g => Uri.UnescapeDataString(g.First().Length > 1 ? g.First()[1].Replace('+', ' ') : ""));
        }
    }

    private static void TryOpenBrowser(string url)
    {
        var opener = OperatingSystem.IsMacOS() ? "open" : OperatingSystem.IsWindows() ? null : "xdg-open";
        try
        {
            if (opener is null) Process.Start(new ProcessStartInfo(url) { UseShellExecute = true })?.Dispose();
            else Process.Start(new ProcessStartInfo(opener, [url]) { RedirectStandardError = true, RedirectStandardOutput = true })?.Dispose();
        }
        catch (System.ComponentModel.Win32Exception)
        {
            // No browser opener on this machine: the URL printed above is the way.
        }
    }
}
