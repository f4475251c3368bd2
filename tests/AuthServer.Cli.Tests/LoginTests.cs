using System.Text.Json.Nodes;
using AuthServer.Cli.Tests.Infrastructure;
using AuthServer.Tests.Infrastructure;
using Microsoft.IdentityModel.JsonWebTokens;

namespace AuthServer.Cli.Tests;

/// <summary>`authserver login` in a pseudo-terminal against the real server, approved or denied from the phone's browser.</summary>
public sealed class LoginTests(CliServer server) : IClassFixture<CliServer>, IDisposable
{
    private readonly string _home = Pty.NewConfigHome();

    [Fact]
    public async Task Login_draws_a_QR_code_of_the_verification_url_and_shows_waiting_scanned_approved_in_order()
    {
        using var pty = Pty.Start(_home, "login", "--server", server.Origin);
        await pty.WaitForAsync(Logins.Waiting);

        // The code on the screen, read back as a phone camera would, is the verification URL with the user code.
        var decoded = await TerminalQrImage.DecodeAsync(TerminalQrImage.FirstCode(pty.Text));
        var userCode = Logins.UserCode(pty.Text);
        decoded.ShouldBe($"{server.Origin}/device?user_code={userCode}");
        pty.Text.ShouldContain($"Or open {decoded}");
        pty.Text.ShouldContain($"or go to {server.Origin}/device and enter the code {userCode}");

        using var browser = server.CreateBrowser();
        await browser.SignInAsync();
        var consent = await browser.OpenVerificationAsync(userCode);
        await pty.WaitForAsync(Logins.Scanned);
        await browser.DecideAsync(consent, userCode, approve: true);

        (await pty.ExitCodeAsync()).ShouldBe(ExitCodes.Ok, pty.Text);
        var text = pty.Text;
        var waiting = text.IndexOf(Logins.Waiting, StringComparison.Ordinal);
        var scanned = text.IndexOf(Logins.Scanned, StringComparison.Ordinal);
        var approved = text.IndexOf("✓ Approved.", StringComparison.Ordinal);
        waiting.ShouldBeGreaterThanOrEqualTo(0);
        scanned.ShouldBeGreaterThan(waiting);
        approved.ShouldBeGreaterThan(scanned);
        text.ShouldContain($"Signed in to {server.Issuer} as {AuthServerFactory.DemoEmail}.");

        // The cache and the DPoP key beside it are readable by their owner only.
        var cacheDirectory = Path.Combine(_home, "authserver");
        File.GetUnixFileMode(Logins.CachePath(_home)).ShouldBe(UnixFileMode.UserRead | UnixFileMode.UserWrite);
        File.GetUnixFileMode(Path.Combine(cacheDirectory, "dpop-es256.pem")).ShouldBe(UnixFileMode.UserRead | UnixFileMode.UserWrite);
        File.GetUnixFileMode(cacheDirectory).ShouldBe(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);

        // One entry for this server and client, its access token bound to the DPoP key (RFC 9449 §6.1).
        var entry = Logins.CacheEntry(_home);
        entry["server"]!.GetValue<string>().ShouldBe(server.Issuer);
        entry["token_type"]!.GetValue<string>().ShouldBe("DPoP");
        entry["user_name"]!.GetValue<string>().ShouldBe(AuthServerFactory.DemoEmail);
        var accessToken = new JsonWebToken(entry["access_token"]!.GetValue<string>());
        accessToken.GetPayloadValue<string>("client_id").ShouldBe("cli");
        accessToken.GetClaim("cnf").Value.ShouldContain("jkt");

        var (code, status) = await Pty.RunAsync(_home, "status", "--json");
        code.ShouldBe(ExitCodes.Ok, status);
        var listed = JsonNode.Parse(status)!.AsArray().Single()!;
        listed["server"]!.GetValue<string>().ShouldBe(server.Issuer);
        listed["client_id"]!.GetValue<string>().ShouldBe("cli");
        listed["user"]!.GetValue<string>().ShouldBe(AuthServerFactory.DemoEmail);
        listed["access_token_valid"]!.GetValue<bool>().ShouldBeTrue();
    }

    [Fact]
    public async Task Login_denied_on_the_phone_ends_with_denied_and_exit_code_6_and_caches_nothing()
    {
        using var pty = Pty.Start(_home, "login", "--server", server.Origin);
        await pty.WaitForAsync(Logins.Waiting);
        using var browser = server.CreateBrowser();
        await browser.SignInAsync();
        await browser.ScanAndDecideAsync(Logins.UserCode(pty.Text), approve: false);

        (await pty.ExitCodeAsync()).ShouldBe(ExitCodes.Denied, pty.Text);
        pty.Text.ShouldContain("✗ Denied on the phone.");
        File.Exists(Logins.CachePath(_home)).ShouldBeFalse();
        var (code, status) = await Pty.RunAsync(_home, "status");
        code.ShouldBe(ExitCodes.NotSignedIn);
        status.ShouldContain("You are not signed in.");
    }

    [Fact]
    public async Task Login_by_polling_alone_is_approved_at_the_next_poll()
    {
        using var pty = Pty.Start(_home, "login", "--server", server.Origin, "--poll");
        await pty.WaitForAsync(Logins.Waiting);
        using var browser = server.CreateBrowser();
        await browser.SignInAsync();
        await browser.ScanAndDecideAsync(Logins.UserCode(pty.Text), approve: true);

        (await pty.ExitCodeAsync()).ShouldBe(ExitCodes.Ok, pty.Text);
        // Polling cannot see the scan (RFC 8628 §3.5 has no such answer): straight from waiting to approved.
        pty.Text.ShouldNotContain(Logins.Scanned);
        pty.Text.ShouldContain("✓ Approved.");
        Logins.CacheEntry(_home)["token_type"]!.GetValue<string>().ShouldBe("DPoP");
    }

    [Fact]
    public async Task A_terminal_too_small_for_the_code_gets_the_link_and_the_user_code_instead()
    {
        using var small = Pty.Start(_home, 24, 20, [], "login", "--server", server.Origin);
        await small.WaitForAsync(Logins.Waiting);
        small.Text.ShouldContain("The terminal is too small for the QR code");
        small.Text.ShouldContain($"{server.Origin}/device?user_code={Logins.UserCode(small.Text)}");
        small.Text.ShouldNotContain("█");
    }

    [Fact]
    public async Task Json_output_is_one_event_per_line_with_the_codes()
    {
        using var pty = Pty.Start(_home, "login", "--server", server.Origin, "--json");
        await pty.WaitForAsync("\"started\"");
        var started = JsonNode.Parse(pty.Text.Split('\n').First(l => l.Contains("\"started\"", StringComparison.Ordinal)))!;
        var userCode = started["user_code"]!.GetValue<string>();
        started["verification_uri_complete"]!.GetValue<string>().ShouldBe($"{server.Origin}/device?user_code={userCode}");
        pty.Text.ShouldNotContain("█");
        using var browser = server.CreateBrowser();
        await browser.SignInAsync();
        await browser.ScanAndDecideAsync(userCode, approve: true);
        (await pty.ExitCodeAsync()).ShouldBe(ExitCodes.Ok, pty.Text);
        var approved = JsonNode.Parse(pty.Text.Split('\n').Last(l => l.Contains("\"approved\"", StringComparison.Ordinal)))!;
        approved["user"]!.GetValue<string>().ShouldBe(AuthServerFactory.DemoEmail);
        approved["server"]!.GetValue<string>().ShouldBe(server.Issuer);
    }

    [Fact]
    public async Task Https_to_a_plain_http_port_is_a_TLS_error_with_exit_code_4()
    {
        var (code, text) = await Pty.RunAsync(_home, "login", "--server", server.Origin.Replace("http://", "https://", StringComparison.Ordinal));
        code.ShouldBe(ExitCodes.Tls, text);
        text.ShouldContain("The TLS connection to 127.0.0.1:");
    }

    [Fact]
    public async Task An_unknown_client_is_a_usage_error_naming_it()
    {
        var (code, text) = await Pty.RunAsync(_home, "login", "--server", server.Origin, "--client", "no-such-client");
        code.ShouldBe(ExitCodes.Usage, text);
        text.ShouldContain("The server refuses client 'no-such-client'");
    }

    public void Dispose()
    {
        try { Directory.Delete(_home, recursive: true); } catch (IOException) { }
    }
}
