using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace AuthServer.Cli.Protocol;

/// <summary>An answer: the status, the JSON body (or null), and the headers.</summary>
public sealed record Answer(HttpStatusCode Status, JsonNode? Json, HttpResponseHeaders Headers)
{
    public bool Ok => (int)Status is >= 200 and < 300;

    /// <summary>The RFC 6749 §5.2 error code, or an RFC 9457 problem's title.</summary>
    public string? Error => Json?["error"]?.GetValue<string>() ?? Json?["title"]?.GetValue<string>();

    public string Describe()
    {
        var detail = Json?["error_description"]?.GetValue<string>() ?? Json?["detail"]?.GetValue<string>();
        var error = Error ?? $"HTTP {(int)Status}";
        return detail is null ? error : $"{error}: {detail}";
    }

    public string Text(string name) => Json?[name]?.GetValue<string>()
        ?? throw new CliException(ExitCodes.Error, $"The server's answer has no '{name}'.");
}

/// <summary>The server's endpoints, from its metadata (RFC 8414).</summary>
public sealed record Endpoints(Uri Token, Uri DeviceAuthorization, Uri? DeviceEvents, Uri? Revocation, Uri Authorization);

/// <summary>
/// HTTP to one AuthServer, with DPoP proofs and nonces (RFC 9449 §8: a <c>use_dpop_nonce</c> answer is retried once
/// with the nonce it carries) and plain-language errors for an unreachable server or a TLS failure.
/// </summary>
public sealed class ServerClient : IDisposable
{
    private readonly HttpClient _http;
    private readonly DpopKey _key;
    private string? _nonce;
    private Endpoints? _endpoints;

    public ServerClient(ServerAddress server, DpopKey key, CliContext context)
    {
        Server = server;
        _key = key;
        var handler = context.CreateHandler?.Invoke() ?? new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            UseCookies = false,
            ConnectTimeout = TimeSpan.FromSeconds(10),
        };
        // No overall timeout: the push stream stays open for the whole login; each call brings its own token.
        _http = new HttpClient(handler) { Timeout = Timeout.InfiniteTimeSpan };
        _http.DefaultRequestHeaders.UserAgent.Add(new ProductInfoHeaderValue("authserver-cli", typeof(ServerClient).Assembly.GetName().Version?.ToString(3) ?? "1.0.0"));
    }

    public ServerAddress Server { get; }

    public DpopKey Key => _key;

    public async Task<Endpoints> EndpointsAsync(CancellationToken cancellation)
    {
        if (_endpoints is not null) return _endpoints;
        var url = Server.Resolve(".well-known/oauth-authorization-server");
        var answer = await SendAsync(() => new HttpRequestMessage(HttpMethod.Get, url), dpop: false, cancellation);
        if (!answer.Ok || answer.Json is not JsonObject metadata)
            throw new CliException(ExitCodes.Error, $"{Server.Issuer} is not an AuthServer: its metadata answered {answer.Describe()}.");
        // RFC 8414 §3.3: the metadata must name the issuer it was fetched for, or it is someone else's.
        var issuer = metadata["issuer"]?.GetValue<string>();
        if (issuer != Server.Issuer)
            throw new CliException(ExitCodes.Error, $"The server at {Server.Issuer} says its issuer is {issuer ?? "(none)"}.",
                "Use the issuer URL exactly as the server publishes it.");
        Uri? Optional(string name) => metadata[name]?.GetValue<string>() is { } value ? new Uri(value) : null;
        Uri Required(string name) => Optional(name)
            ?? throw new CliException(ExitCodes.Error, $"{Server.Issuer} does not publish '{name}'.");
        return _endpoints = new Endpoints(Required("token_endpoint"), Required("device_authorization_endpoint"),
            Optional("device_authorization_events_endpoint"), Optional("revocation_endpoint"), Required("authorization_endpoint"));
    }

    public Task<Answer> PostFormAsync(Uri url, IEnumerable<KeyValuePair<string, string>> form, CancellationToken cancellation, bool dpop = true)
    {
        var fields = form.ToList();
        return SendAsync(() => new HttpRequestMessage(HttpMethod.Post, url) { Content = new FormUrlEncodedContent(fields) }, dpop, cancellation);
    }

    /// <summary>A call to an API with an access token: <c>Authorization: DPoP</c> and a proof with <c>ath</c> for a bound token (RFC 9449 §7.1).</summary>
    public Task<Answer> CallAsync(HttpMethod method, Uri url, string accessToken, string tokenType, JsonNode? body, CancellationToken cancellation)
    {
        var bound = string.Equals(tokenType, "DPoP", StringComparison.OrdinalIgnoreCase);
        return SendAsync(() =>
        {
            var request = new HttpRequestMessage(method, url);
            request.Headers.Authorization = new AuthenticationHeaderValue(bound ? "DPoP" : "Bearer", accessToken);
            if (body is not null) request.Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json");
            return request;
        }, bound, cancellation, accessToken);
    }

    /// <summary>Opens the push stream: the response is returned unread, for <see cref="EventStream"/>.</summary>
    public async Task<HttpResponseMessage> OpenStreamAsync(Uri url, IEnumerable<KeyValuePair<string, string>> form, CancellationToken cancellation)
    {
        var fields = form.ToList();
        for (var attempt = 0; ; attempt++)
        {
            var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new FormUrlEncodedContent(fields) };
            request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/event-stream"));
            request.Headers.Add("DPoP", _key.Proof("POST", url, _nonce));
            var response = await TransportAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellation);
            RememberNonce(response.Headers);
            if (response.IsSuccessStatusCode || attempt > 0) return response;
            var answer = await ReadAsync(response, cancellation);
            if (answer.Error != "use_dpop_nonce") return new HttpResponseMessage(answer.Status) { ReasonPhrase = answer.Describe() };
        }
    }

    private async Task<Answer> SendAsync(Func<HttpRequestMessage> create, bool dpop, CancellationToken cancellation, string? accessToken = null)
    {
        for (var attempt = 0; ; attempt++)
        {
            using var request = create();
            if (dpop) request.Headers.Add("DPoP", _key.Proof(request.Method.Method, request.RequestUri!, _nonce, accessToken));
            using var response = await TransportAsync(request, HttpCompletionOption.ResponseContentRead, cancellation);
            RememberNonce(response.Headers);
            var answer = await ReadAsync(response, cancellation);
            if (dpop && attempt == 0 && NeedsNonce(response, answer)) continue;
            return answer;
        }
    }

    /// <summary>
    /// The server asks for a (fresh) nonce with <c>use_dpop_nonce</c>: in the JSON error at the token and device
    /// endpoints (RFC 9449 §8), in <c>WWW-Authenticate</c> at a resource (§9).
    /// </summary>
    private static bool NeedsNonce(HttpResponseMessage response, Answer answer) =>
        answer.Error == "use_dpop_nonce"
        || response.Headers.WwwAuthenticate.Any(h => h.Parameter?.Contains("use_dpop_nonce", StringComparison.Ordinal) == true);

    private void RememberNonce(HttpResponseHeaders headers)
    {
        if (headers.TryGetValues("DPoP-Nonce", out var values)) _nonce = values.FirstOrDefault() ?? _nonce;
    }

    private static async Task<Answer> ReadAsync(HttpResponseMessage response, CancellationToken cancellation)
    {
        var text = await response.Content.ReadAsStringAsync(cancellation);
        JsonNode? json = null;
        if (text.Length > 0)
        {
            try { json = JsonNode.Parse(text); }
            catch (JsonException) { json = null; }
        }
        return new Answer(response.StatusCode, json, response.Headers);
    }

    private async Task<HttpResponseMessage> TransportAsync(HttpRequestMessage request, HttpCompletionOption completion, CancellationToken cancellation)
    {
        try
        {
            return await _http.SendAsync(request, completion, cancellation);
        }
        catch (HttpRequestException ex) when (Find<AuthenticationException>(ex) is { } tls)
        {
            throw new CliException(ExitCodes.Tls, $"The TLS connection to {Server.Origin.Authority} failed: {tls.Message}",
                "Check the URL, the server's certificate and your system's trusted certificates.");
        }
        catch (HttpRequestException ex)
        {
            var reason = Find<SocketException>(ex)?.Message ?? ex.Message;
            throw new CliException(ExitCodes.Unreachable, $"Cannot reach {Server.Origin.Authority}: {reason}",
                "Check the URL and that the server is running.");
        }
        catch (TaskCanceledException) when (!cancellation.IsCancellationRequested)
        {
            throw new CliException(ExitCodes.Unreachable, $"{Server.Origin.Authority} did not answer in time.");
        }
    }

    private static T? Find<T>(Exception? exception) where T : Exception
    {
        for (; exception is not null; exception = exception.InnerException)
            if (exception is T found) return found;
        return null;
    }

    public void Dispose() => _http.Dispose();
}
