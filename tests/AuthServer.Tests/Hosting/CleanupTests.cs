using System.Data.Common;
using System.Net;
using AuthServer.Data;
using AuthServer.Hosting;
using AuthServer.Tests.Infrastructure;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;

namespace AuthServer.Tests.Hosting;

/// <summary>
/// Pruning a large backlog in bounded batches: 100,000 ended rows (login requests, tokens, linked devices, audit
/// events) are deleted at most a batch per statement, with a pause after each batch in which the server answers
/// polls and takes writes, and what is still live is kept.
/// </summary>
public abstract class CleanupTests(CleanupTests.CleanupFactory factory)
{
    public sealed class OnSqlite(CleanupFactory server) : CleanupTests(server), IClassFixture<CleanupFactory>;

    public sealed class OnPostgreSql(CleanupFactory.OnPostgreSqlServer server) : CleanupTests(server), IClassFixture<CleanupFactory.OnPostgreSqlServer>;

    private const int BatchSize = 1000;
    private static readonly TimeSpan Pause = TimeSpan.FromMilliseconds(125);

    public class CleanupFactory : TimerWatchingFactory
    {
        public CleanupFactory() : this(DatabaseProvider.Sqlite)
        {
        }

        protected CleanupFactory(DatabaseProvider provider) : base(provider)
        {
        }

        public sealed class OnPostgreSqlServer() : CleanupFactory(DatabaseProvider.PostgreSql);

        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            base.ConfigureWebHost(builder);
            builder.UseSetting("Cleanup:BatchSize", BatchSize.ToString());
            builder.UseSetting("Cleanup:BatchPause", Pause.ToString());
        }
    }

    private const int ExpiredRequests = 20_000;
    private const int ExpiredTokens = 40_000;
    private const int EndedDevices = 20_000;
    private const int OldAuditEvents = 20_000;
    private const int LiveTokens = 1_000;
    private const int RecentAuditEvents = 500;

    [Fact]
    public async Task A_backlog_of_100000_ended_rows_is_pruned_a_batch_at_a_time_while_polls_and_writes_go_on()
    {
        (ExpiredRequests + ExpiredTokens + EndedDevices + OldAuditEvents).ShouldBe(100_000);
        var device = factory.CreateClient();
        var deviceCode = (await device.StartAsync()).Get("device_code");
        await using var db = await factory.OpenDatabaseAsync();
        await InsertBacklogAsync(db);
        var left = await EndedRowsAsync(db);
        left.ShouldBe(100_000);

        await using var scope = factory.Services.CreateAsyncScope();
        var since = factory.Timers.Mark;
        var run = scope.ServiceProvider.GetRequiredService<CleanupJob>().RunAsync(CancellationToken.None);
        var pauses = 0;
        var largestStep = 0;
        while (true)
        {
            var paused = factory.Timers.WaitForTimerAsync(since, Pause);
            if (await Task.WhenAny(paused, run) == run) break;
            since = factory.Timers.Mark;
            pauses++;

            // Between two batches: no more than one batch is gone since the last pause.
            var now = await EndedRowsAsync(db);
            (left - now).ShouldBeLessThanOrEqualTo(BatchSize, $"pause {pauses}");
            largestStep = Math.Max(largestStep, left - now);
            left = now;

            if (pauses % 10 == 0)
            {
                // The server is not held up: a pending poll is answered as such, and a new login request (a write,
                // on SQLite through the one writer) goes through while the cleanup is under way.
                var poll = await device.PollAsync(deviceCode);
                poll.Status.ShouldBe(HttpStatusCode.BadRequest);
                poll.Error.ShouldBe("authorization_pending", $"pause {pauses}");
                var started = await device.StartAsync();
                started.Status.ShouldBe(HttpStatusCode.OK, $"pause {pauses}");
                // Past the poll interval, so the next poll is not slow_down; this also ends the pause.
                factory.Clock.Advance(TimeSpan.FromSeconds(5));
            }
            else
            {
                factory.Clock.Advance(Pause);
            }
        }
        var result = await run;

        result.ShouldBe(result with { LoginRequests = ExpiredRequests, Tokens = ExpiredTokens, Authorizations = EndedDevices, AuditEvents = OldAuditEvents });
        // Every batch but the last of each of the four tables is followed by a pause.
        pauses.ShouldBe(result.Batches - 4);
        pauses.ShouldBeGreaterThanOrEqualTo(100_000 / BatchSize - 4);
        largestStep.ShouldBe(BatchSize);
        (await EndedRowsAsync(db)).ShouldBe(0);
        (await db.ScalarAsync<long>("""SELECT COUNT(*) FROM "OpenIddictTokens" WHERE "Id" LIKE 'bulk-k%'""")).ShouldBe(LiveTokens);
        (await db.ScalarAsync<long>("""SELECT COUNT(*) FROM "AuditEvents" WHERE "Type" = 'bulk.recent'""")).ShouldBe(RecentAuditEvents);
        factory.Clock.Advance(TimeSpan.FromSeconds(5));
        (await device.PollAsync(deviceCode)).Error.ShouldBe("authorization_pending");
    }

    [Fact]
    public async Task Audit_retention_is_configurable_and_defaults_to_a_year()
    {
        new CleanupOptions().AuditRetention.ShouldBe(TimeSpan.FromDays(365));
        using var shortLived = AuthServerFactory.With(new() { ["Cleanup:AuditRetention"] = "1.00:00:00" }, factory.Provider);
        shortLived.CreateClient();
        await using var db = await shortLived.OpenDatabaseAsync();
        var now = shortLived.Clock.GetUtcNow();
        foreach (var (type, at) in new[] { ("bulk.old", now.AddDays(-2)), ("bulk.recent", now.AddHours(-23)) })
            await db.ExecuteAsync("""INSERT INTO "AuditEvents" ("At", "Type") VALUES (@at, @type)""", ("at", at.ToUnixTimeMilliseconds()), ("type", type));

        await using var scope = shortLived.Services.CreateAsyncScope();
        var result = await scope.ServiceProvider.GetRequiredService<CleanupJob>().RunAsync(CancellationToken.None);

        result.AuditEvents.ShouldBe(1);
        (await db.ScalarAsync<long>("""SELECT COUNT(*) FROM "AuditEvents" WHERE "Type" LIKE 'bulk.%'""")).ShouldBe(1);
        (await db.ScalarAsync<string>("""SELECT "Type" FROM "AuditEvents" WHERE "Type" LIKE 'bulk.%'""")).ShouldBe("bulk.recent");
    }

    [Fact]
    public void A_batch_size_out_of_range_stops_start_up()
    {
        using var wrong = AuthServerFactory.With(new() { ["Cleanup:BatchSize"] = "0" }, factory.Provider);

        Should.Throw<Exception>(() => wrong.CreateClient()).ToString().ShouldContain("BatchSize");
    }

    /// <summary>The ended rows of the backlog still in the database.</summary>
    private static async Task<int> EndedRowsAsync(DbConnection db) => (int)await db.ScalarAsync<long>("""
        SELECT (SELECT COUNT(*) FROM "DeviceAuthorizations" WHERE "Id" LIKE 'bulk-d%')
             + (SELECT COUNT(*) FROM "OpenIddictTokens" WHERE "Id" LIKE 'bulk-e%')
             + (SELECT COUNT(*) FROM "OpenIddictAuthorizations" WHERE "Id" LIKE 'bulk-a%')
             + (SELECT COUNT(*) FROM "AuditEvents" WHERE "Type" = 'bulk.old')
        """);

    /// <summary>
    /// The backlog, in one set-based statement per kind (a generated series of numbers), in the year 2000: long
    /// expired. Alongside it, tokens created then that are still valid and audit events of today, which must stay.
    /// </summary>
    private async Task InsertBacklogAsync(DbConnection db)
    {
        var sqlite = factory.Provider == DatabaseProvider.Sqlite;
        string Series(int count) => sqlite
            ? $"WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {count}) "
            : "";
        string From(int count) => sqlite ? "FROM n" : $"FROM generate_series(1, {count}) AS n(i)";
        string Id(string prefix) => sqlite ? $"'{prefix}' || printf('%06d', i)" : $"'{prefix}' || lpad(i::text, 6, '0')";
        string Date(string text) => sqlite ? $"'{text}'" : $"TIMESTAMPTZ '{text}+00'";
        var no = sqlite ? "0" : "FALSE";
        var today = factory.Clock.GetUtcNow().ToUnixTimeMilliseconds();

        await db.ExecuteAsync(Series(ExpiredRequests) + $"""
            INSERT INTO "DeviceAuthorizations" ("Id", "DeviceCodeHash", "UserCode", "ClientId", "Scope", "Status", "CreatedAt",
                "ExpiresAt", "IntervalSeconds", "Version", "WrongNumber")
            SELECT {Id("bulk-d")}, {Id("hash-")}, {Id("U")}, 'demo-tv', 'openid', 'Pending', 946684800000, 946685100000, 5, 0, {no}
            {From(ExpiredRequests)}
            """);
        await db.ExecuteAsync(Series(ExpiredTokens) + $"""
            INSERT INTO "OpenIddictTokens" ("Id", "ConcurrencyToken", "CreationDate", "ExpirationDate", "Status", "Subject", "Type")
            SELECT {Id("bulk-e")}, 'c', {Date("2000-01-01 00:00:00")}, {Date("2000-01-01 00:10:00")}, 'valid', 'bulk', 'access_token'
            {From(ExpiredTokens)}
            """);
        await db.ExecuteAsync(Series(LiveTokens) + $"""
            INSERT INTO "OpenIddictTokens" ("Id", "ConcurrencyToken", "CreationDate", "ExpirationDate", "Status", "Subject", "Type")
            SELECT {Id("bulk-k")}, 'c', {Date("2000-01-01 00:00:00")}, {Date("2999-01-01 00:00:00")}, 'valid', 'bulk', 'refresh_token'
            {From(LiveTokens)}
            """);
        await db.ExecuteAsync(Series(EndedDevices) + $"""
            INSERT INTO "OpenIddictAuthorizations" ("Id", "ConcurrencyToken", "CreationDate", "Status", "Subject", "Type")
            SELECT {Id("bulk-a")}, 'c', {Date("2000-01-01 00:00:00")}, 'valid', 'bulk', 'ad-hoc'
            {From(EndedDevices)}
            """);
        await db.ExecuteAsync(Series(OldAuditEvents) + $"""
            INSERT INTO "AuditEvents" ("At", "Type") SELECT 946684800000 + i, 'bulk.old' {From(OldAuditEvents)}
            """);
        await db.ExecuteAsync(Series(RecentAuditEvents) + $"""
            INSERT INTO "AuditEvents" ("At", "Type") SELECT {today} - i, 'bulk.recent' {From(RecentAuditEvents)}
            """);
    }
}
