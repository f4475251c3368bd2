using System.Net.Http.Headers;

namespace AuthServer.Bench;

/// <summary>A waiting screen on the push stream (wrk cannot hold SSE connections).</summary>
public sealed class EventReader : IAsyncDisposable
{
    private readonly HttpResponseMessage _response;
    private readonly StreamReader _reader;

    private EventReader(HttpResponseMessage response, StreamReader reader)
    {
        _response = response;
        _reader = reader;
    }

    public static async Task<EventReader> OpenAsync(HttpClient http, string deviceCode, string clientId = "demo-tv")
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/connect/device/events")
        {
            Content = Client.Form(("client_id", clientId), ("device_code", deviceCode)),
        };
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/event-stream"));
        var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        response.EnsureSuccessStatusCode();
        return new EventReader(response, new StreamReader(await response.Content.ReadAsStreamAsync()));
    }

    /// <summary>Reads until an event named <paramref name="name"/> arrives (bounded: 30 s).</summary>
    public async Task WaitForAsync(string name)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (await _reader.ReadLineAsync(timeout.Token) is { } line)
        {
            if (line == $"event: {name}") return;
        }
        throw new InvalidOperationException($"the stream ended before '{name}'");
    }

    public ValueTask DisposeAsync()
    {
        _reader.Dispose();
        _response.Dispose();
        return ValueTask.CompletedTask;
    }
}
