using System.Text.Json.Nodes;
using AuthServer.Cli.Tests.Infrastructure;
using Microsoft.Extensions.Time.Testing;

namespace AuthServer.Cli.Tests;

/// <summary>`token`, `status` and `logout` after a real login.</summary>
public sealed class TokenTests(TokenTests.Server server) : IClassFixture<TokenTests.Server>, IDisposable
{
    /// <summary>
    /// The CLI's clock is moved past the token's expiry while the server keeps real time, so the server accepts DPoP
    /// proofs whose <c>iat</c> is that far off (RFC 9449 §11.1 leaves the window to the server).
    /// </summary>
    public sealed class Server() : CliServer(new() { ["Dpop:ProofLifetime"] = "00:15:00" });

    private readonly string _home = Pty.NewConfigHome();

    [Fact]
    public async Task Token_prints_the_cached_token_alone_while_it_is_fresh()
    {
        using var _ = await Logins.LoginAndApproveAsync(server, _home);
        var cached = Logins.CacheEntry(_home)["access_token"]!.GetValue<string>();

        var (code, text) = await Pty.RunAsync(_home, "token");

        code.ShouldBe(ExitCodes.Ok, text);
        text.Trim().ShouldBe(cached);
    }

    [Fact]
    public async Task Token_refreshes_once_the_access_token_expires_on_the_CLI_clock_and_keeps_the_cache_private()
    {
        using var _ = await Logins.LoginAndApproveAsync(server, _home);
        var before = Logins.CacheEntry(_home);
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);

        var fresh = await RunInProcessAsync(clock, "token", "--json");
        fresh.Code.ShouldBe(ExitCodes.Ok, fresh.Error);
        var notRefreshed = JsonNode.Parse(fresh.Out)!;
        notRefreshed["refreshed"]!.GetValue<bool>().ShouldBeFalse();
        notRefreshed["access_token"]!.GetValue<string>().ShouldBe(before["access_token"]!.GetValue<string>());

        // Past the 10-minute lifetime on the CLI's clock: the next `token` refreshes (RFC 6749 §6) and rotates.
        clock.Advance(TimeSpan.FromMinutes(11));
        var later = await RunInProcessAsync(clock, "token", "--json");
        later.Code.ShouldBe(ExitCodes.Ok, later.Out + later.Error);
        var refreshed = JsonNode.Parse(later.Out)!;
        refreshed["refreshed"]!.GetValue<bool>().ShouldBeTrue();
        refreshed["token_type"]!.GetValue<string>().ShouldBe("DPoP");
        var after = Logins.CacheEntry(_home);
        refreshed["access_token"]!.GetValue<string>().ShouldNotBe(before["access_token"]!.GetValue<string>());
        after["access_token"]!.GetValue<string>().ShouldBe(refreshed["access_token"]!.GetValue<string>());
        after["refresh_token"]!.GetValue<string>().ShouldNotBe(before["refresh_token"]!.GetValue<string>());
        DateTimeOffset.Parse(after["expires_at"]!.GetValue<string>(), System.Globalization.CultureInfo.InvariantCulture)
            .ShouldBeGreaterThan(clock.GetUtcNow().AddMinutes(9));
        File.GetUnixFileMode(Logins.CachePath(_home)).ShouldBe(UnixFileMode.UserRead | UnixFileMode.UserWrite);
    }

    [Fact]
    public async Task Token_with_a_one_minute_lifetime_refreshes_at_once_in_a_terminal()
    {
        using var shortLived = CliServer.With(new() { ["Clients:cli:AccessTokenLifetime"] = "00:01:00" });
        using var _ = await Logins.LoginAndApproveAsync(shortLived, _home);
        var before = Logins.CacheEntry(_home);

        // Less than the CLI's one-minute margin is left, so `token` refreshes rather than hand on a dying token.
        var (code, text) = await Pty.RunAsync(_home, "token");

        code.ShouldBe(ExitCodes.Ok, text);
        text.Trim().ShouldNotBe(before["access_token"]!.GetValue<string>());
        text.Trim().ShouldBe(Logins.CacheEntry(_home)["access_token"]!.GetValue<string>());
    }

    [Fact]
    public async Task Logout_revokes_the_refresh_token_forgets_the_login_and_token_then_asks_to_sign_in()
    {
        using var _ = await Logins.LoginAndApproveAsync(server, _home);
        var kept = File.ReadAllText(Logins.CachePath(_home));

        var (code, text) = await Pty.RunAsync(_home, "logout");
        code.ShouldBe(ExitCodes.Ok, text);
        text.ShouldContain($"Logged out of {server.Issuer} (cli).");
        File.ReadAllText(Logins.CachePath(_home)).Trim().ShouldBe("[]");

        // Put the forgotten entry back: its refresh token, signed for with the right DPoP key, is now refused by the
        // server (RFC 7009 §2.1: the device is logged out), and the CLI says so and forgets it again.
        File.WriteAllText(Logins.CachePath(_home), kept);
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow.AddMinutes(11));
        var revoked = await RunInProcessAsync(clock, "token");
        revoked.Code.ShouldBe(ExitCodes.NotSignedIn, revoked.Out + revoked.Error);
        revoked.Error.ShouldContain("has expired or was logged out (invalid_grant");
        File.ReadAllText(Logins.CachePath(_home)).Trim().ShouldBe("[]");

        var (after, message) = await Pty.RunAsync(_home, "token");
        after.ShouldBe(ExitCodes.NotSignedIn, message);
        message.ShouldContain("You are not signed in.");
        message.ShouldContain("authserver login --server");
    }

    private async Task<(int Code, string Out, string Error)> RunInProcessAsync(TimeProvider clock, params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var context = new CliContext
        {
            Time = clock,
            Out = output,
            Error = error,
            In = TextReader.Null,
            OutIsTerminal = false,
            InIsTerminal = false,
            Environment = name => name == "XDG_CONFIG_HOME" ? _home : null,
        };
        var code = await CliApp.RunAsync(args, context);
        return (code, output.ToString(), error.ToString());
    }

    public void Dispose()
    {
        try { Directory.Delete(_home, recursive: true); } catch (IOException) { }
    }
}
