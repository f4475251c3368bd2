using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;

namespace AuthServer.Cli.Tests.Infrastructure;

/// <summary>
/// The CLI (the built AuthServer.Cli.dll) run in a pseudo-terminal by util-linux <c>script</c>, so it sees a real TTY of
/// a chosen size, as in a user's terminal. Everything it writes is collected; <see cref="WaitForAsync"/> waits for text.
/// Each instance has its own configuration directory (<c>XDG_CONFIG_HOME</c>), unless one is shared on purpose.
/// </summary>
public sealed partial class Pty : IDisposable
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly Task _reader;
    private readonly SemaphoreSlim _changed = new(0);

    private Pty(Process process, string configHome)
    {
        _process = process;
        ConfigHome = configHome;
        _reader = Task.Run(async () =>
        {
            var buffer = new char[4096];
            int read;
            while ((read = await process.StandardOutput.ReadAsync(buffer)) > 0)
            {
                lock (_output) _output.Append(buffer, 0, read);
                _changed.Release();
            }
            _changed.Release();
        });
    }

    public string ConfigHome { get; }

    public string CacheDirectory => Path.Combine(ConfigHome, "authserver");

    /// <summary>Everything written so far, escape sequences included.</summary>
    public string Raw { get { lock (_output) return _output.ToString(); } }

    /// <summary>What was written, without ANSI escape sequences.</summary>
    public string Text => StripEscapes(Raw);

    public static string NewConfigHome() => Directory.CreateTempSubdirectory("authserver-cli-").FullName;

    public static Pty Start(string configHome, params string[] args) => Start(configHome, 100, 60, new Dictionary<string, string?>(), args);

    public static Pty Start(string configHome, int columns, int rows, Dictionary<string, string?> environment, params string[] args)
    {
        var command = $"stty cols {columns} rows {rows}; exec dotnet {Quote(CliBinary.Path)} {string.Join(' ', args.Select(Quote))}";
        var info = new ProcessStartInfo("script", ["-q", "-e", "-c", command, "/dev/null"])
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            StandardOutputEncoding = Encoding.UTF8,
        };
        info.Environment["XDG_CONFIG_HOME"] = configHome;
        info.Environment["TERM"] = "xterm-256color";
        info.Environment["DOTNET_NOLOGO"] = "1";
        info.Environment.Remove("NO_COLOR");
        foreach (var (key, value) in environment)
        {
            if (value is null) info.Environment.Remove(key);
            else info.Environment[key] = value;
        }
        var process = Process.Start(info) ?? throw new InvalidOperationException("script did not start (util-linux)");
        return new Pty(process, configHome);
    }

    /// <summary>Waits until the text written so far satisfies <paramref name="condition"/>.</summary>
    public async Task WaitForAsync(Func<string, bool> condition, string what)
    {
        var deadline = DateTime.UtcNow + Timeout;
        while (!condition(Text))
        {
            if (_process.HasExited)
            {
                await _reader;
                if (condition(Text)) return;
                Assert.Fail($"The CLI exited ({_process.ExitCode}) before {what}. Output:\n{Text}");
            }
            var left = deadline - DateTime.UtcNow;
            if (left <= TimeSpan.Zero || !await _changed.WaitAsync(left))
                Assert.Fail($"The CLI did not show {what} within {Timeout.TotalSeconds} s. Output:\n{Text}");
        }
    }

    public Task WaitForAsync(string text) => WaitForAsync(t => t.Contains(text, StringComparison.Ordinal), $"'{text}'");

    public async Task<int> ExitCodeAsync()
    {
        using var timeout = new CancellationTokenSource(Timeout);
        try { await _process.WaitForExitAsync(timeout.Token); }
        catch (OperationCanceledException) { Assert.Fail($"The CLI did not exit within {Timeout.TotalSeconds} s. Output:\n{Text}"); }
        await _reader;
        return _process.ExitCode;
    }

    /// <summary>Runs a command to its end and returns its exit code and text.</summary>
    public static async Task<(int ExitCode, string Text)> RunAsync(string configHome, params string[] args)
    {
        using var pty = Start(configHome, args);
        var code = await pty.ExitCodeAsync();
        return (code, pty.Text);
    }

    public static string StripEscapes(string text) => Escapes().Replace(text, "");

    [GeneratedRegex(@"\e\[[0-9;?]*[A-Za-z]|\e[=>]")]
    private static partial Regex Escapes();

    private static string Quote(string argument) => "'" + argument.Replace("'", "'\\''", StringComparison.Ordinal) + "'";

    public void Dispose()
    {
        if (!_process.HasExited) _process.Kill(entireProcessTree: true);
        _process.Dispose();
        _changed.Dispose();
    }
}

/// <summary>The CLI built beside these tests, in the same configuration.</summary>
public static class CliBinary
{
    public static string Path { get; } = Find();

    private static string Find()
    {
        var configuration = new DirectoryInfo(AppContext.BaseDirectory).Parent!.Name;
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (!File.Exists(System.IO.Path.Combine(dir.FullName, "AuthServer.sln"))) continue;
            var dll = System.IO.Path.Combine(dir.FullName, "src", "AuthServer.Cli", "bin", configuration, "net10.0", "AuthServer.Cli.dll");
            if (File.Exists(dll)) return dll;
            throw new InvalidOperationException($"The CLI is not built at {dll}; build AuthServer.sln in {configuration}.");
        }
        throw new InvalidOperationException($"No folder above {AppContext.BaseDirectory} holds AuthServer.sln.");
    }
}
