using Microsoft.EntityFrameworkCore;
using System.Net;
using AuthServer.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace AuthServer.Tests.Hosting;

public sealed class RestartTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("authserver-restart-").FullName;

    private AuthServerFactory Start() =>
        AuthServerFactory.With(new() { ["ConnectionStrings:AuthServer"] = $"Data Source={Path.Combine(_directory, "shared.db")}" });

    [Fact]
    public async Task An_approved_login_survives_a_restart_and_redeems_on_the_new_process()
    {
        string deviceCode, jwks;
        using (var before = Start())
        {
            var device = before.CreateClient();
            var started = await device.StartAsync();
            deviceCode = started.Get("device_code");
            await before.DecideAsDemoUserAsync(started.Get("user_code"), approve: true);
            jwks = await device.GetStringAsync("/.well-known/jwks");
        }

        using var after = Start();
        var client = after.CreateClient();
        var tokens = await client.PollAsync(deviceCode);

        tokens.Status.ShouldBe(HttpStatusCode.OK);
        // The signing keys and the Data Protection key ring that encrypts them survived too.
        (await client.GetStringAsync("/.well-known/jwks")).ShouldBe(jwks);
    }

    [Fact]
    public async Task A_pending_login_is_still_pending_after_a_restart()
    {
        string deviceCode;
        using (var before = Start())
            deviceCode = (await before.CreateClient().StartAsync()).Get("device_code");

        using var after = Start();
        (await after.CreateClient().PollAsync(deviceCode)).Error.ShouldBe("authorization_pending");
    }

    [Fact]
    public async Task Cleanup_deletes_requests_a_day_after_expiry_and_forgets_them_in_memory()
    {
        using var factory = Start();
        var device = factory.CreateClient();
        var deviceCode = (await device.StartAsync()).Get("device_code");

        factory.Clock.Advance(TimeSpan.FromMinutes(10));
        await RunCleanupAsync(factory);
        (await device.PollAsync(deviceCode)).Error.ShouldBe("expired_token"); // kept for a day

        factory.Clock.Advance(TimeSpan.FromDays(1));
        await RunCleanupAsync(factory);
        // Our login request is gone from memory and the database, and so is OpenIddict's row of the code (pruned on
        // the server's clock): the code is now unknown, which RFC 6749 §5.2 answers with invalid_grant.
        await using (var scope = factory.Services.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<AuthServer.Data.AuthServerDbContext>();
            (await db.DeviceAuthorizations.CountAsync()).ShouldBe(0);
            // The device code and user code rows were the only tokens of this server.
            (await db.Tokens.CountAsync()).ShouldBe(0);
        }
        (await device.PollAsync(deviceCode)).Error.ShouldBe("invalid_grant");
    }

    private static async Task RunCleanupAsync(AuthServerFactory factory)
    {
        await using var scope = factory.Services.CreateAsyncScope();
        await scope.ServiceProvider.GetRequiredService<AuthServer.Hosting.CleanupJob>().RunAsync(CancellationToken.None);
    }

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
    }
}
