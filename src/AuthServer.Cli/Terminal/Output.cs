using System.Text.Json;
using System.Text.Json.Nodes;

namespace AuthServer.Cli.Terminal;

/// <summary>
/// What a command prints: human text (coloured only on a terminal, and never when <c>NO_COLOR</c> is set, per
/// no-color.org) or, with <c>--json</c>, one JSON document per result for scripts.
/// </summary>
public sealed class Output(CliContext context, bool json)
{
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    public bool Json { get; } = json;

    public bool IsTerminal => context.OutIsTerminal && !Json;

    public bool Colour { get; } = context.OutIsTerminal && !json
        && string.IsNullOrEmpty(context.Environment("NO_COLOR"))
        && context.Environment("TERM") != "dumb";

    public TextWriter Writer => context.Out;

    public string Bold(string text) => Paint("1", text);
    public string Dim(string text) => Paint("2", text);
    public string Green(string text) => Paint("32", text);
    public string Yellow(string text) => Paint("33", text);
    public string Red(string text) => Paint("31", text);
    public string Cyan(string text) => Paint("36", text);

    private string Paint(string code, string text) => Colour ? $"\e[{code}m{text}\e[0m" : text;

    public void Line(string text = "")
    {
        if (!Json) context.Out.WriteLine(text);
    }

    public void WriteJson(JsonNode node) => context.Out.WriteLine(node.ToJsonString(Indented));

    /// <summary>An error on standard error; colour follows standard output's terminal, which is where people look.</summary>
    public void Failure(CliException failure)
    {
        if (Json)
        {
            context.Out.WriteLine(new JsonObject
            {
                ["error"] = failure.Message,
                ["hint"] = failure.Hint,
                ["exit_code"] = failure.ExitCode,
            }.ToJsonString(Indented));
            return;
        }
        context.Error.WriteLine($"{Red("error:")} {failure.Message}");
        if (failure.Hint is not null) context.Error.WriteLine(Dim(failure.Hint));
    }
}
