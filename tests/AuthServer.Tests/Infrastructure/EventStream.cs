using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace AuthServer.Tests.Infrastructure;

/// <summary>One Server-Sent Event of the waiting screen's push stream.</summary>
public sealed record ServerSentEvent(string Name, string? Id, JsonElement Data)
{
    public string? Account => Data.TryGetProperty("account", out var a) ? a.GetString() : null;
    public int? Number => Data.TryGetProperty("number", out var n) ? n.GetInt32() : null;
}

/// <summary>
/// The waiting screen's side of <c>POST /connect/device/events</c>, read as a real HTTP stream from the in-memory
/// server (headers first, then line by line). Every read is bounded, so a missing event fails the test instead of
/// hanging it; nothing waits on wall-clock time otherwise.
/// </summary>
public sealed class EventStream : IDisposable
{
    public const string Path = "/connect/device/events";

    /// <summary>
    /// How long one read may take before the test fails. It only guards against hangs, so it is generous: the test
    /// assemblies run side by side on a small machine, and a request there has been seen to wait over ten seconds.
    /// </summary>
    public static readonly TimeSpan ReadTimeout = TimeSpan.FromSeconds(30);

    private readonly StreamReader _reader;
    private readonly StringBuilder _transcript = new();

    private EventStream(HttpResponseMessage response, Stream body)
    {
        Response = response;
        _reader = new StreamReader(body, Encoding.UTF8);
    }

    public HttpResponseMessage Response { get; }

    /// <summary>Everything read so far, verbatim.</summary>
    public string Transcript => _transcript.ToString();

    /// <summary>The request as a screen sends it: the device code in the form body, never in the URL.</summary>
    public static HttpRequestMessage Request(string? deviceCode, string? clientId = "demo-tv", string? accept = "text/event-stream")
    {
        var form = new List<KeyValuePair<string, string>>();
        if (clientId is not null) form.Add(new("client_id", clientId));
        if (deviceCode is not null) form.Add(new("device_code", deviceCode));
        var request = new HttpRequestMessage(HttpMethod.Post, Path) { Content = new FormUrlEncodedContent(form) };
        if (accept is not null) request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(accept));
        return request;
    }

    /// <summary>Sends the request and returns as soon as the headers arrive; the body is still streaming.</summary>
    public static async Task<HttpResponseMessage> SendAsync(HttpClient http, HttpRequestMessage request)
    {
        using var timeout = new CancellationTokenSource(ReadTimeout);
        return await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
    }

    /// <summary>Opens the stream for a device code and checks that it is one (200, text/event-stream).</summary>
    public static async Task<EventStream> OpenAsync(HttpClient http, string deviceCode, string clientId = "demo-tv")
    {
        var response = await SendAsync(http, Request(deviceCode, clientId));
        if (response.StatusCode != HttpStatusCode.OK)
            throw new ShouldAssertException($"the stream should open, got {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        response.Content.Headers.ContentType?.MediaType.ShouldBe("text/event-stream");
        return new EventStream(response, await response.Content.ReadAsStreamAsync());
    }

    /// <summary>The next line, without its end of line; null when the server ended the stream.</summary>
    public async Task<string?> ReadLineAsync()
    {
        using var timeout = new CancellationTokenSource(ReadTimeout);
        string? line;
        try
        {
            line = await _reader.ReadLineAsync(timeout.Token);
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested)
        {
            throw new ShouldAssertException($"nothing arrived on the stream within {ReadTimeout.TotalSeconds} s; read so far:\n{Transcript}");
        }
        if (line is not null) _transcript.Append(line).Append('\n');
        return line;
    }

    /// <summary>The next event, skipping comment lines (the keep-alive pings); null when the stream ended.</summary>
    public async Task<ServerSentEvent?> ReadEventAsync()
    {
        string? name = null, id = null;
        var data = new StringBuilder();
        while (await ReadLineAsync() is { } line)
        {
            if (line.Length == 0)
            {
                if (name is null && data.Length == 0) continue; // the end of a comment, or a stray blank line
                return new ServerSentEvent(name ?? "message", id,
                    data.Length == 0 ? default : JsonDocument.Parse(data.ToString()).RootElement.Clone());
            }
            if (line.StartsWith(':')) continue;
            var colon = line.IndexOf(':');
            var field = colon < 0 ? line : line[..colon];
            var value = colon < 0 ? "" : line[(colon + 1)..].TrimStart(' ');
            switch (field)
            {
                case "event": name = value; break;
                case "id": id = value; break;
                case "data": data.Append(value); break;
            }
        }
        return null;
    }

    /// <summary>Reads the next event and checks its name and id.</summary>
    public async Task<ServerSentEvent> ExpectEventAsync(string name, int id)
    {
        var next = await ReadEventAsync();
        next.ShouldNotBeNull($"expected '{name}' but the stream ended; read:\n{Transcript}");
        next.Name.ShouldBe(name, $"read:\n{Transcript}");
        next.Id.ShouldBe(id.ToString(System.Globalization.CultureInfo.InvariantCulture));
        next.Data.GetProperty("status").GetString().ShouldBe(name);
        return next;
    }

    /// <summary>Checks that the server ended the stream (after a final event).</summary>
    public async Task ExpectEndAsync()
    {
        var rest = await ReadLineAsync();
        while (rest is not null)
        {
            rest.ShouldBe("", $"nothing more should follow the final event; read:\n{Transcript}");
            rest = await ReadLineAsync();
        }
    }

    public void Dispose()
    {
        _reader.Dispose();
        Response.Dispose();
    }
}
