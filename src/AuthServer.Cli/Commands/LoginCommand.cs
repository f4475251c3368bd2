using System.Text.Json.Nodes;
using AuthServer.Cli.Cache;
using AuthServer.Cli.Protocol;
using AuthServer.Cli.Terminal;

namespace AuthServer.Cli.Commands;

public sealed record LoginOptions(string Server, string ClientId, string Scope, string? DeviceName, bool Poll, bool Rotate, TimeSpan Timeout, bool Json);

/// <summary>
/// `authserver login`: the device authorization grant (RFC 8628) with the QR code in the terminal. The status comes
/// from the push stream when the server has one, else from polling (§3.4, §3.5); the QR code is replaced before it
/// expires (the server's QR rotation), and the tokens are bound to the CLI's DPoP key from the first request.
/// </summary>
public sealed class LoginCommand(CliContext context, LoginOptions options)
{
    public const string DefaultClient = "cli";
    public const string DefaultScope = "openid profile offline_access api";

    /// <summary>Rotate this long before a pending code expires, so that the replacement is on screen in time.</summary>
    private static readonly TimeSpan RotateBefore = TimeSpan.FromSeconds(10);

    private readonly Output _output = context.Output(options.Json);
    private int _drawnLines;

    private enum Outcome { Approved, Denied, Expired, Rotate }

    private sealed record DeviceRequest(string DeviceCode, string UserCode, string VerificationUri, string VerificationUriComplete,
        DateTimeOffset ExpiresAt, TimeSpan Interval);

    public async Task<int> RunAsync(CancellationToken cancellation)
    {
        var server = ServerAddress.Parse(options.Server);
        ValidateScope(options.Scope);
        var cache = context.Cache();
        using var key = DpopKey.LoadOrCreate(cache, context.Time);
        using var client = new ServerClient(server, key, context);
        var endpoints = await client.EndpointsAsync(cancellation);

        var deadline = context.Time.GetUtcNow() + options.Timeout;
        var request = await StartAsync(client, endpoints, superseded: null, cancellation);
        await using var spinner = new Spinner(_output, context.Time);
        Show(request, rotated: false);
        while (true)
        {
            var rotate = options.Rotate && request.ExpiresAt - RotateBefore < deadline;
            var (outcome, tokens) = await WatchAsync(client, endpoints, request, spinner, rotate, cancellation);
            switch (outcome)
            {
                case Outcome.Rotate:
                    spinner.Clear();
                    request = await StartAsync(client, endpoints, request.DeviceCode, cancellation);
                    Show(request, rotated: true);
                    continue;
                case Outcome.Denied:
                    spinner.Finish(_output.Red("✗ Denied on the phone."));
                    Event(new JsonObject { ["event"] = "denied" });
                    return ExitCodes.Denied;
                case Outcome.Expired:
                    spinner.Finish(_output.Red("✗ Expired: the code was not approved in time."));
                    Event(new JsonObject { ["event"] = "expired" });
                    return ExitCodes.Expired;
            }
            var entry = TokenResponse.ToEntry(tokens!, server, options.ClientId, context.Time.GetUtcNow());
            cache.Save(entry);
            spinner.Finish(_output.Green("✓ Approved.") + $" Signed in to {server.Issuer} as {entry.UserName ?? entry.Subject ?? "(unknown)"}.");
            Event(new JsonObject
            {
                ["event"] = "approved",
                ["server"] = entry.Server,
                ["client_id"] = entry.ClientId,
                ["user"] = entry.UserName,
                ["device_id"] = entry.DeviceId,
                ["expires_at"] = entry.ExpiresAt.ToString("O"),
            });
            return ExitCodes.Ok;
        }
    }

    private static void ValidateScope(string scope)
    {
        // RFC 6749 §3.3: scope tokens are printable ASCII without space, '"' or '\'.
        var tokens = scope.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (tokens.Length == 0 || tokens.Any(t => t.Any(c => c < 0x21 || c > 0x7e || c == '"' || c == '\\')))
            throw CliException.Usage($"'{scope}' is not a valid scope.", "Give space-separated scope names, e.g. --scope \"openid profile\".");
    }

    private async Task<DeviceRequest> StartAsync(ServerClient client, Endpoints endpoints, string? superseded, CancellationToken cancellation)
    {
        var form = new Dictionary<string, string>
        {
            ["client_id"] = options.ClientId,
            ["scope"] = options.Scope,
            ["device_name"] = options.DeviceName ?? DefaultDeviceName(),
        };
        // QR rotation: naming the old code makes it unusable the moment the new one exists.
        if (superseded is not null) form["superseded_device_code"] = superseded;
        var answer = await client.PostFormAsync(endpoints.DeviceAuthorization, form, cancellation);
        if (!answer.Ok)
        {
            throw answer.Error switch
            {
                "invalid_client" or "unauthorized_client" => CliException.Usage($"The server refuses client '{options.ClientId}': {answer.Describe()}",
                    "Use --client with a client registered for the device flow."),
                "invalid_scope" => CliException.Usage($"The server refuses the scope '{options.Scope}': {answer.Describe()}"),
                _ => new CliException(ExitCodes.Error, $"The server refused the login: {answer.Describe()}"),
            };
        }
        var now = context.Time.GetUtcNow();
        return new DeviceRequest(answer.Text("device_code"), answer.Text("user_code"), answer.Text("verification_uri"),
            answer.Json?["verification_uri_complete"]?.GetValue<string>() ?? answer.Text("verification_uri"),
            now.AddSeconds(answer.Json?["expires_in"]?.GetValue<long>() ?? 300),
            // RFC 8628 §3.2: without an interval the client waits 5 seconds.
            TimeSpan.FromSeconds(answer.Json?["interval"]?.GetValue<long>() ?? 5));
    }

    private static string DefaultDeviceName()
    {
        var name = $"authserver CLI on {Environment.MachineName}";
        // The server refuses a name with control or format characters (RFC 8628 §5.4), which a machine name may hold.
        var plain = string.Concat(name.EnumerateRunes().Where(DisplayText.IsPlain).Select(r => r.ToString()));
        return plain.Length <= 100 ? plain : plain[..(char.IsHighSurrogate(plain[99]) ? 99 : 100)];
    }

    private void Show(DeviceRequest request, bool rotated)
    {
        if (_output.Json)
        {
            Event(new JsonObject
            {
                ["event"] = rotated ? "rotated" : "started",
                ["user_code"] = request.UserCode,
                ["verification_uri"] = request.VerificationUri,
                ["verification_uri_complete"] = request.VerificationUriComplete,
                ["expires_at"] = request.ExpiresAt.ToString("O"),
            });
            return;
        }
        if (rotated && _output.IsTerminal && _drawnLines > 0)
        {
            // Redraw in place: up to the first line of the previous code, then clear to the end of the screen.
            _output.Writer.Write($"\e[{_drawnLines}A\r\e[J");
        }
        var lines = new List<string>
        {
            _output.Bold(rotated ? "A new code (the previous one expired):" : "Scan the QR code with your phone:"),
            "",
        };
        var (columns, rows) = context.TerminalSize();
        // Leave room for the text around the code: five lines, plus the status line.
        var qr = TerminalQr.Render(request.VerificationUriComplete, columns, rows - 7, _output.Colour);
        if (qr is null)
            lines.Add(_output.Yellow("(The terminal is too small for the QR code; open the link below instead.)"));
        else
            lines.AddRange(qr);
        lines.Add("");
        lines.Add($"Or open {_output.Cyan(request.VerificationUriComplete)}");
        lines.Add($"or go to {_output.Cyan(request.VerificationUri)} and enter the code {_output.Bold(request.UserCode)}");
        lines.Add("");
        foreach (var line in lines) _output.Line(line);
        _output.Writer.Flush();
        _drawnLines = lines.Count;
    }

    private void Event(JsonObject json)
    {
        if (_output.Json) context.Out.WriteLine(json.ToJsonString());
    }

    private async Task<(Outcome, Answer?)> WatchAsync(ServerClient client, Endpoints endpoints, DeviceRequest request, Spinner spinner,
        bool rotate, CancellationToken cancellation)
    {
        using var watch = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        var scanned = false;
        using var rotation = rotate
            ? context.Time.CreateTimer(_ => { if (!Volatile.Read(ref scanned)) watch.Cancel(); }, null,
                Max(request.ExpiresAt - RotateBefore - context.Time.GetUtcNow(), TimeSpan.Zero), Timeout.InfiniteTimeSpan)
            : null;
        spinner.Update("Waiting for your phone to scan the code…");
        try
        {
            if (!options.Poll && endpoints.DeviceEvents is { } events)
            {
                var streamed = await StreamAsync(client, endpoints, events, request, spinner, () => Volatile.Write(ref scanned, true), watch.Token);
                if (streamed is { } result) return result;
            }
            return await PollAsync(client, endpoints, request, watch.Token);
        }
        catch (OperationCanceledException) when (!cancellation.IsCancellationRequested)
        {
            return (Outcome.Rotate, null);
        }
    }

    /// <summary>Follows the push stream; null when it cannot be used or ended without a decision, so the caller polls.</summary>
    private async Task<(Outcome, Answer?)?> StreamAsync(ServerClient client, Endpoints endpoints, Uri events, DeviceRequest request,
        Spinner spinner, Action onScanned, CancellationToken cancellation)
    {
        HttpResponseMessage response;
        try
        {
            response = await client.OpenStreamAsync(events, Form(request), cancellation);
        }
        catch (CliException ex) when (ex.ExitCode == ExitCodes.Unreachable)
        {
            return null;
        }
        using (response)
        {
            if (!response.IsSuccessStatusCode) return null;
            await using var body = await response.Content.ReadAsStreamAsync(cancellation);
            try
            {
                await foreach (var evt in EventStream.ReadAsync(body, cancellation))
                {
                    switch (evt.Name)
                    {
                        case "pending":
                            spinner.Update("Waiting for your phone to scan the code…");
                            break;
                        case "scanned":
                            onScanned();
                            var number = evt.Data?["number"]?.GetValue<int>();
                            spinner.Update(number is { } n
                                ? $"Scanned: confirm on your phone by picking {_output.Bold(n.ToString(System.Globalization.CultureInfo.InvariantCulture))}"
                                : "Scanned: confirm on your phone");
                            Event(new JsonObject { ["event"] = "scanned", ["number"] = number });
                            break;
                        case "approved":
                            return await RedeemAsync(client, endpoints, request, cancellation);
                        case "denied":
                            return (Outcome.Denied, null);
                        case "expired":
                        case "superseded":
                            return (Outcome.Expired, null);
                    }
                }
            }
            catch (IOException) when (!cancellation.IsCancellationRequested)
            {
                // The connection dropped: polling carries on (RFC 8628 §3.4 needs nothing else).
            }
        }
        return null;
    }

    private async Task<(Outcome, Answer?)> RedeemAsync(ServerClient client, Endpoints endpoints, DeviceRequest request, CancellationToken cancellation)
    {
        var answer = await client.PostFormAsync(endpoints.Token, TokenForm(request), cancellation);
        return Classify(answer) ?? await PollAsync(client, endpoints, request, cancellation);
    }

    /// <summary>RFC 8628 §3.4–3.5: poll every interval; <c>slow_down</c> adds 5 seconds to it, for this and every later poll.</summary>
    private async Task<(Outcome, Answer?)> PollAsync(ServerClient client, Endpoints endpoints, DeviceRequest request, CancellationToken cancellation)
    {
        var interval = request.Interval;
        while (true)
        {
            await Task.Delay(interval, context.Time, cancellation);
            var answer = await client.PostFormAsync(endpoints.Token, TokenForm(request), cancellation);
            if (answer.Error == "slow_down")
            {
                interval += TimeSpan.FromSeconds(5);
                continue;
            }
            if (Classify(answer) is { } result) return result;
        }
    }

    /// <summary>A poll's answer: a result, or null for <c>authorization_pending</c>.</summary>
    private static (Outcome, Answer?)? Classify(Answer answer) => answer.Ok ? (Outcome.Approved, answer) : answer.Error switch
    {
        "authorization_pending" or "slow_down" => null,
        "access_denied" => (Outcome.Denied, null),
        "expired_token" => (Outcome.Expired, null),
        _ => throw new CliException(ExitCodes.Error, $"The server refused the login: {answer.Describe()}"),
    };

    private Dictionary<string, string> Form(DeviceRequest request) => new()
    {
        ["client_id"] = options.ClientId,
        ["device_code"] = request.DeviceCode,
    };

    private Dictionary<string, string> TokenForm(DeviceRequest request) => new(Form(request))
    {
        ["grant_type"] = "urn:ietf:params:oauth:grant-type:device_code",
    };

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;
}
