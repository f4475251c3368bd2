using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using AuthServer.Cli.Tests.Infrastructure;
using AuthServer.Tests.Infrastructure;

namespace AuthServer.Cli.Tests;

/// <summary>The phone commands: one CLI signs in as the phone and approves another CLI's login, then logs it out.</summary>
public sealed partial class PhoneTests(CliServer server) : IClassFixture<CliServer>, IDisposable
{
    private readonly string _phoneHome = Pty.NewConfigHome();
    private readonly string _screenHome = Pty.NewConfigHome();

    [Fact]
    public async Task The_phone_signs_in_in_the_browser_approves_a_screen_lists_it_and_logs_it_out()
    {
        await PhoneLoginAsync();
        File.GetUnixFileMode(Logins.CachePath(_phoneHome)).ShouldBe(UnixFileMode.UserRead | UnixFileMode.UserWrite);
        Logins.CacheEntry(_phoneHome, "phone")["scope"]!.GetValue<string>().ShouldContain("phone_app");

        using var screen = Pty.Start(_screenHome, "login", "--server", server.Origin, "--device-name", "Screen under test");
        await screen.WaitForAsync(Logins.Waiting);
        var url = $"{server.Origin}/device?user_code={Logins.UserCode(screen.Text)}";

        var (approved, approveText) = await Pty.RunAsync(_phoneHome, "phone", "approve", url);
        approved.ShouldBe(ExitCodes.Ok, approveText);
        approveText.ShouldContain("AuthServer command line wants to sign in as you");
        approveText.ShouldContain("device   Screen under test");
        approveText.ShouldContain("✓ Approved.");
        (await screen.ExitCodeAsync()).ShouldBe(ExitCodes.Ok, screen.Text);
        screen.Text.IndexOf(Logins.Scanned, StringComparison.Ordinal).ShouldBeGreaterThan(screen.Text.IndexOf(Logins.Waiting, StringComparison.Ordinal));

        var (listed, devicesJson) = await Pty.RunAsync(_phoneHome, "phone", "devices", "--json");
        listed.ShouldBe(ExitCodes.Ok, devicesJson);
        var devices = JsonNode.Parse(devicesJson)!.AsArray();
        var screenDevice = devices.Single(d => d!["name"]!.GetValue<string>() == "Screen under test")!;
        screenDevice["client"]!["id"]!.GetValue<string>().ShouldBe("cli");
        screenDevice["id"]!.GetValue<string>().ShouldBe(Logins.CacheEntry(_screenHome)["device_id"]!.GetValue<string>());

        var (loggedOut, logoutText) = await Pty.RunAsync(_phoneHome, "phone", "logout", screenDevice["id"]!.GetValue<string>());
        loggedOut.ShouldBe(ExitCodes.Ok, logoutText);
        logoutText.ShouldContain($"Logged out device {screenDevice["id"]!.GetValue<string>()}.");
        var (again, againText) = await Pty.RunAsync(_phoneHome, "phone", "logout", screenDevice["id"]!.GetValue<string>());
        again.ShouldBe(ExitCodes.Usage, againText);
        againText.ShouldContain("No signed-in device of this account has the id");
    }

    [Fact]
    public async Task The_phone_denies_a_screen_and_an_unknown_code_is_a_usage_error()
    {
        await PhoneLoginAsync();
        using var screen = Pty.Start(_screenHome, "login", "--server", server.Origin);
        await screen.WaitForAsync(Logins.Waiting);

        // A script reads what the phone saw, but never the confirm ticket: a single-use secret stays out of output and logs.
        var (scanned, scanJson) = await Pty.RunAsync(_phoneHome, "phone", "scan", Logins.UserCode(screen.Text), "--json");
        scanned.ShouldBe(ExitCodes.Ok, scanJson);
        var scan = JsonNode.Parse(scanJson)!.AsObject();
        scan["user_code"]!.GetValue<string>().Replace("-", "").ShouldBe(Logins.UserCode(screen.Text).Replace("-", ""));
        scan.ContainsKey("scan_id").ShouldBeTrue();
        scan.ContainsKey("confirm_ticket").ShouldBeFalse();

        var (denied, deniedText) = await Pty.RunAsync(_phoneHome, "phone", "deny", Logins.UserCode(screen.Text).ToLowerInvariant());
        denied.ShouldBe(ExitCodes.Ok, deniedText);
        deniedText.ShouldContain("✗ Denied.");
        (await screen.ExitCodeAsync()).ShouldBe(ExitCodes.Denied, screen.Text);

        var (unknown, unknownText) = await Pty.RunAsync(_phoneHome, "phone", "scan", "BCDF-GHJK");
        unknown.ShouldBe(ExitCodes.Usage, unknownText);
        unknownText.ShouldContain("No login request has this code");
    }

    /// <summary>`phone login`, with the test as the browser: signs in on the real page and follows the redirect to the CLI's loopback port.</summary>
    private async Task PhoneLoginAsync()
    {
        using var phone = Pty.Start(_phoneHome, "phone", "login", "--server", server.Origin, "--no-browser");
        await phone.WaitForAsync(t => AuthorizeUrl().IsMatch(t), "the authorization URL");
        var url = AuthorizeUrl().Match(phone.Text).Value;

        using var browser = server.CreateBrowser();
        await browser.SignInAsync();
        var location = url;
        for (var hop = 0; hop < 10 && location.StartsWith(server.Origin, StringComparison.Ordinal); hop++)
        {
            var response = await browser.GetAsync(location);
            ((int)response.StatusCode).ShouldBe(302, await response.Content.ReadAsStringAsync());
            location = new Uri(new Uri(location), response.Headers.Location!).AbsoluteUri;
        }
        location.ShouldStartWith("http://127.0.0.1:");
        location.ShouldContain("/callback?code=");
        using var loopback = new HttpClient();
        (await loopback.GetStringAsync(location)).ShouldContain("You can close this tab");

        (await phone.ExitCodeAsync()).ShouldBe(ExitCodes.Ok, phone.Text);
        phone.Text.ShouldContain($"Signed in to {server.Issuer} as the phone of {AuthServerFactory.DemoEmail}.");
    }

    [GeneratedRegex(@"http://127\.0\.0\.1:\d+/connect/authorize\?[^\s]+(?=\r?\n)")]
    private static partial Regex AuthorizeUrl();

    public void Dispose()
    {
        foreach (var home in new[] { _phoneHome, _screenHome })
            try { Directory.Delete(home, recursive: true); } catch (IOException) { }
    }
}
