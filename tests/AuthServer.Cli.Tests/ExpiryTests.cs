using AuthServer.Cli.Tests.Infrastructure;
using AuthServer.Tests.Infrastructure;

namespace AuthServer.Cli.Tests;

/// <summary>Codes that expire: shown as expired, or replaced by a new QR code before they do (the server's QR rotation).</summary>
public sealed class ExpiryTests : IDisposable
{
    private readonly string _home = Pty.NewConfigHome();
    private CliServer? _server;

    [Fact]
    public async Task A_code_nobody_approves_ends_with_expired_and_exit_code_7()
    {
        _server = CliServer.With(new() { ["Clients:cli:DeviceCodeLifetime"] = "00:00:02" });
        using var pty = Pty.Start(_home, "login", "--server", _server.Origin, "--no-rotate");
        await pty.WaitForAsync(Logins.Waiting);

        (await pty.ExitCodeAsync()).ShouldBe(ExitCodes.Expired, pty.Text);
        pty.Text.IndexOf("✗ Expired: the code was not approved in time.", StringComparison.Ordinal)
            .ShouldBeGreaterThan(pty.Text.IndexOf(Logins.Waiting, StringComparison.Ordinal));
        File.Exists(Logins.CachePath(_home)).ShouldBeFalse();
    }

    [Fact]
    public async Task A_code_about_to_expire_is_replaced_by_a_new_QR_code_and_the_old_one_no_longer_works()
    {
        // A 12 s code is replaced 10 s before it expires; with a 3 s timeout only the first one is.
        _server = CliServer.With(new() { ["Clients:cli:DeviceCodeLifetime"] = "00:00:12" });
        using var pty = Pty.Start(_home, "login", "--server", _server.Origin, "--timeout", "3");
        await pty.WaitForAsync(Logins.Waiting);
        var first = Logins.UserCode(pty.Text);
        await pty.WaitForAsync("A new code (the previous one expired):");
        await pty.WaitForAsync(t => Logins.UserCode(t) != first, "a second user code");
        var second = Logins.UserCode(pty.Text);

        // The redrawn code decodes to the new request's URL.
        var redrawn = pty.Text[pty.Text.IndexOf("A new code", StringComparison.Ordinal)..];
        (await TerminalQrImage.DecodeAsync(TerminalQrImage.FirstCode(redrawn))).ShouldBe($"{_server.Origin}/device?user_code={second}");

        using var browser = _server.CreateBrowser();
        await browser.SignInAsync();
        var old = await browser.GetStringAsync($"/device?user_code={first}");
        old.ShouldContain("expired", Case.Insensitive);
        var consent = await browser.OpenVerificationAsync(second);
        consent.ShouldContain("Approve", Case.Sensitive, $"the new code's page:\n{consent}\nCLI:\n{pty.Text}");
        await browser.DecideAsync(consent, second, approve: true);
        (await pty.ExitCodeAsync()).ShouldBe(ExitCodes.Ok, pty.Text);
        pty.Text.ShouldContain("✓ Approved.");
    }

    public void Dispose()
    {
        _server?.Dispose();
        try { Directory.Delete(_home, recursive: true); } catch (IOException) { }
    }
}
