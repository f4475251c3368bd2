using AuthServer.Cli.Cache;
using AuthServer.Cli.Terminal;

namespace AuthServer.Cli;

/// <summary>
/// Everything a command touches outside itself: the clock, the streams, the environment and where the cache lives.
/// Tests build one with a fake clock and in-memory streams; <see cref="FromProcess"/> is the real process.
/// </summary>
public sealed class CliContext
{
    public required TimeProvider Time { get; init; }
    public required TextWriter Out { get; init; }
    public required TextWriter Error { get; init; }
    public required TextReader In { get; init; }
    public required bool OutIsTerminal { get; init; }
    public required bool InIsTerminal { get; init; }
    public required Func<string, string?> Environment { get; init; }

    /// <summary>Test hook for the HTTP stack; null uses a plain <see cref="SocketsHttpHandler"/>.</summary>
    public Func<HttpMessageHandler>? CreateHandler { get; init; }

    public static CliContext FromProcess() => new()
    {
        Time = TimeProvider.System,
        Out = Console.Out,
        Error = Console.Error,
        In = Console.In,
        OutIsTerminal = !Console.IsOutputRedirected,
        InIsTerminal = !Console.IsInputRedirected,
        Environment = System.Environment.GetEnvironmentVariable,
    };

    public Output Output(bool json) => new(this, json);

    public TokenCache Cache() => new(ConfigDirectory());

    /// <summary>
    /// The per-user configuration directory: <c>$XDG_CONFIG_HOME/authserver</c>, else <c>~/.config/authserver</c>
    /// (XDG Base Directory Specification), else the platform's application data folder.
    /// </summary>
    public string ConfigDirectory()
    {
        var xdg = Environment("XDG_CONFIG_HOME");
        if (!string.IsNullOrEmpty(xdg) && Path.IsPathRooted(xdg)) return Path.Combine(xdg, "authserver");
        var home = Environment("HOME");
        if (!string.IsNullOrEmpty(home)) return Path.Combine(home, ".config", "authserver");
        return Path.Combine(System.Environment.GetFolderPath(System.Environment.SpecialFolder.ApplicationData), "authserver");
    }

    /// <summary>The terminal's size in columns and rows: the terminal's own, else <c>COLUMNS</c>/<c>LINES</c>, else 80×24.</summary>
    public (int Columns, int Rows) TerminalSize()
    {
        int columns = 0, rows = 0;
        if (OutIsTerminal)
        {
            try { columns = Console.WindowWidth; rows = Console.WindowHeight; }
            catch (IOException) { }
        }
        if (columns <= 0 && int.TryParse(Environment("COLUMNS"), out var c)) columns = c;
        if (rows <= 0 && int.TryParse(Environment("LINES"), out var r)) rows = r;
        return (columns > 0 ? columns : 80, rows > 0 ? rows : 24);
    }
}
