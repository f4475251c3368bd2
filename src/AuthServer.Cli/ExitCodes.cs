namespace AuthServer.Cli;

/// <summary>The process exit codes, documented in docs/cli.md; scripts branch on them, so they never change meaning.</summary>
public static class ExitCodes
{
    public const int Ok = 0;
    public const int Error = 1;
    public const int Usage = 2;
    public const int Unreachable = 3;
    public const int Tls = 4;
    public const int NotSignedIn = 5;
    public const int Denied = 6;
    public const int Expired = 7;
    public const int Interrupted = 130;
}

/// <summary>A failure the user can act on: its message is printed as is, and the process exits with its code.</summary>
public sealed class CliException(int exitCode, string message, string? hint = null) : Exception(message)
{
    public int ExitCode { get; } = exitCode;

    /// <summary>What to do about it, printed on a second line.</summary>
    public string? Hint { get; } = hint;

    public static CliException Usage(string message, string? hint = null) => new(ExitCodes.Usage, message, hint);

    public static CliException NotSignedIn(string message) =>
        new(ExitCodes.NotSignedIn, message, "Run `authserver login --server <url>` to sign in again.");
}
