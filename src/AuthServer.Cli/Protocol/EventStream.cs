using System.Runtime.CompilerServices;
using System.Text.Json.Nodes;

namespace AuthServer.Cli.Protocol;

/// <summary>One Server-Sent Event of the push stream: its name (the status) and its data.</summary>
public sealed record StreamEvent(string Name, JsonNode? Data);

/// <summary>Reads the push stream (HTML Living Standard §9.2, Server-Sent Events): events end at a blank line; comment lines start with ':'.</summary>
public static class EventStream
{
    public static async IAsyncEnumerable<StreamEvent> ReadAsync(Stream stream, [EnumeratorCancellation] CancellationToken cancellation)
    {
        using var reader = new StreamReader(stream);
        string name = "message";
        var data = new List<string>();
        while (await reader.ReadLineAsync(cancellation) is { } line)
        {
            if (line.Length == 0)
            {
                if (data.Count > 0)
                {
                    JsonNode? json = null;
                    try { json = JsonNode.Parse(string.Join('\n', data)); }
                    catch (System.Text.Json.JsonException) { }
                    yield return new StreamEvent(name, json);
                }
                name = "message";
                data.Clear();
                continue;
            }
            if (line[0] == ':') continue;
            var colon = line.IndexOf(':');
            var field = colon < 0 ? line : line[..colon];
            var value = colon < 0 ? "" : line[(colon + 1)..].TrimStart(' ');
            if (field == "event") name = value;
            else if (field == "data") data.Add(value);
        }
    }
}
