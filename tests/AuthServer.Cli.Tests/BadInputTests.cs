using AuthServer.Cli.Tests.Infrastructure;

namespace AuthServer.Cli.Tests;

/// <summary>Bad input and an unreachable server: a clear message and the documented exit code, never a stack trace.</summary>
public sealed class BadInputTests : IDisposable
{
    private readonly string _home = Pty.NewConfigHome();

    [Theory]
    [InlineData(ExitCodes.Usage, "is not a server URL", "login", "--server", "not-a-url")]
    [InlineData(ExitCodes.Usage, "is not a server URL: it must have no query", "login", "--server", "https://login.example.com/?x=1")]
    [InlineData(ExitCodes.Usage, "Option '--server' is required.", "login")]
    [InlineData(ExitCodes.Usage, "is not a valid scope", "login", "--server", "http://127.0.0.1:9", "--scope", "bad\"scope")]
    [InlineData(ExitCodes.Usage, "--timeout must be between", "login", "--server", "http://127.0.0.1:9", "--timeout", "0")]
    [InlineData(ExitCodes.Usage, "Unrecognized command or argument 'frobnicate'", "frobnicate")]
    [InlineData(ExitCodes.Unreachable, "Cannot reach 127.0.0.1:9", "login", "--server", "http://127.0.0.1:9")]
    [InlineData(ExitCodes.NotSignedIn, "You are not signed in.", "token")]
    [InlineData(ExitCodes.NotSignedIn, "You are not signed in as a phone.", "phone", "scan", "BCDF-GHJK")]
    [InlineData(ExitCodes.Usage, "is not a device id", "phone", "logout", "not-a-guid")]
    public async Task Bad_input_gets_its_message_and_exit_code(int exitCode, string message, params string[] args)
    {
        var (code, text) = await Pty.RunAsync(_home, args);

        code.ShouldBe(exitCode, text);
        text.ShouldContain(message);
        text.ShouldNotContain("   at ");
    }

    [Fact]
    public async Task Errors_are_red_on_a_terminal_and_plain_with_NO_COLOR()
    {
        using (var coloured = Pty.Start(_home, "login", "--server", "not-a-url"))
        {
            (await coloured.ExitCodeAsync()).ShouldBe(ExitCodes.Usage);
            coloured.Raw.ShouldContain("\e[31merror:\e[0m");
        }
        using var plain = Pty.Start(_home, 100, 60, new() { ["NO_COLOR"] = "1" }, "login", "--server", "not-a-url");
        (await plain.ExitCodeAsync()).ShouldBe(ExitCodes.Usage);
        plain.Raw.ShouldContain("error: 'not-a-url' is not a server URL.");
        plain.Raw.ShouldNotContain("\e[31m");
    }

    public void Dispose()
    {
        try { Directory.Delete(_home, recursive: true); } catch (IOException) { }
    }
}
