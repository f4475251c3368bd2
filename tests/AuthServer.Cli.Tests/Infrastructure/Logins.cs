using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using AuthServer.Tests.Infrastructure;

namespace AuthServer.Cli.Tests.Infrastructure;

/// <summary>The steps the tests share: the user code the CLI shows, the phone's browser approving it, the cache file.</summary>
public static partial class Logins
{
    public const string Waiting = "Waiting for your phone to scan the code";
    public const string Scanned = "Scanned: confirm on your phone";

    /// <summary>The last user code the CLI printed ("enter the code XXXX-XXXX").</summary>
    public static string UserCode(string text) => EnterTheCode().Matches(text).Last().Groups[1].Value;

    [GeneratedRegex(@"enter the code ([A-Z]{4}-[A-Z]{4})")]
    private static partial Regex EnterTheCode();

    /// <summary>Runs `login` in a terminal and approves it from the phone's browser as the demo user.</summary>
    public static async Task<Pty> LoginAndApproveAsync(CliServer server, string configHome)
    {
        var pty = Pty.Start(configHome, "login", "--server", server.Origin);
        await pty.WaitForAsync(Waiting);
        using var browser = server.CreateBrowser();
        await browser.SignInAsync();
        await browser.ScanAndDecideAsync(UserCode(pty.Text), approve: true);
        (await pty.ExitCodeAsync()).ShouldBe(ExitCodes.Ok, pty.Text);
        return pty;
    }

    public static string CachePath(string configHome) => Path.Combine(configHome, "authserver", "tokens.json");

    public static JsonObject CacheEntry(string configHome, string clientId = "cli") =>
        JsonNode.Parse(File.ReadAllText(CachePath(configHome)))!.AsArray()
            .Single(e => e!["client_id"]!.GetValue<string>() == clientId)!.AsObject();
}
