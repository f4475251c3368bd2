using System.Data.Common;
using System.Net;
using AuthServer.Data;
using AuthServer.Tests.Infrastructure;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace AuthServer.Tests.Hardening;

/// <summary>
/// Faults of the process and of its SQLite file: a restart at any step of a login (a new server on the same file)
/// loses nothing and still redeems once; a full or read-only database answers 503 with <c>Retry-After</c> and serves
/// again, without a restart, once it can be written; a file deleted under the server is reported and not written to.
/// </summary>
public sealed class FaultTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("authserver-faults-").FullName;

    private string DatabasePath => Path.Combine(_directory, "shared.db");

    private AuthServerFactory Start() =>
        AuthServerFactory.With(new() { ["ConnectionStrings:AuthServer"] = $"Data Source={DatabasePath};Default Timeout=5" });

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        try { Directory.Delete(_directory, recursive: true); } catch (IOException) { }
    }

    // ---- Restarts ----

    [Fact]
    public async Task A_login_scanned_before_a_restart_is_approved_after_it_with_the_same_ticket_and_redeems_once()
    {
        string deviceCode, scanId, ticket, token;
        (string, string) account;
        using (var before = Start())
        {
            var started = await before.CreateClient().StartAsync();
            deviceCode = started.Get("device_code");
            account = await PhoneApp.NewAccountAsync(before);
            var phone = await PhoneApp.SignInAsync(before, account);
            var scan = await phone.ScanOkAsync(started.Get("user_code"));
            (scanId, ticket, token) = (scan.ScanId, scan.ConfirmTicket, phone.AccessToken);
        }

        using var after = Start();
        var http = after.CreateClient();
        // The phone's access token, its claim on the request and its confirm ticket are all in the file.
        (await http.PollAsync(deviceCode)).Error.ShouldBe("authorization_pending");
        var approve = await PhoneApp.SendAsync(http, HttpMethod.Post, $"{PhoneApp.Prefix}/scans/{scanId}/approve", token,
            content: System.Net.Http.Json.JsonContent.Create(new { confirm_ticket = ticket }));
        approve.Status.ShouldBe(HttpStatusCode.NoContent, $"body: {approve.Json}");

        (await http.PollAsync(deviceCode)).Status.ShouldBe(HttpStatusCode.OK);
        (await http.PollAsync(deviceCode)).Error.ShouldBe("invalid_grant");
    }

    [Fact]
    public async Task A_login_redeemed_before_a_restart_is_not_redeemed_again_after_it_and_its_refresh_token_works()
    {
        string deviceCode, refreshToken;
        using (var before = Start())
        {
            var device = before.CreateClient();
            var started = await device.StartAsync();
            deviceCode = started.Get("device_code");
            await before.DecideAsDemoUserAsync(started.Get("user_code"), approve: true);
            var tokens = await device.PollAsync(deviceCode);
            tokens.Status.ShouldBe(HttpStatusCode.OK);
            refreshToken = tokens.Get("refresh_token");
        }

        using var after = Start();
        var http = after.CreateClient();
        var again = await http.PollAsync(deviceCode);
        again.Status.ShouldBe(HttpStatusCode.BadRequest);
        again.Error.ShouldBe("invalid_grant");
        (await http.RefreshAsync(refreshToken)).Status.ShouldBe(HttpStatusCode.OK);
    }

    /// <summary>
    /// A restart while polls are arriving: the old process still answers while the new one already does, both on one
    /// file (as during a rolling restart). Of the polls spread over both, exactly one redeems the approved code.
    /// </summary>
    [Fact]
    public async Task An_approved_login_polled_on_the_old_and_the_new_process_at_once_redeems_exactly_once()
    {
        using var before = Start();
        var started = await before.CreateClient().StartAsync();
        await before.DecideAsDemoUserAsync(started.Get("user_code"), approve: true);
        using var after = Start();
        var (oldProcess, newProcess) = (before.CreateClient(), after.CreateClient());

        var polls = await Task.WhenAll(Enumerable.Range(0, 20).Select(i =>
            Task.Run(() => (i % 2 == 0 ? oldProcess : newProcess).PollAsync(started.Get("device_code")))));

        polls.Count(p => p.Status == HttpStatusCode.OK).ShouldBe(1);
        polls.Where(p => p.Status != HttpStatusCode.OK).ShouldAllBe(p => p.Error == "invalid_grant");
    }

    // ---- A full or read-only database ----

    /// <summary>
    /// Sets SQLite's limits on every connection of one server: EF's (an interceptor on each open: the driver pools
    /// native connections, which keep their pragmas) and the lanes' (each rented and set).
    /// </summary>
    private sealed class DiskFaults : DbConnectionInterceptor
    {
        public const long Unlimited = 2_147_483_646;
        public volatile bool ReadOnly;
        public long MaxPages = Unlimited;

        public string Pragmas => $"PRAGMA query_only={(ReadOnly ? 1 : 0)}; PRAGMA max_page_count={Interlocked.Read(ref MaxPages)};";

        public override void ConnectionOpened(DbConnection connection, ConnectionEndEventData eventData) => Apply(connection);

        public override Task ConnectionOpenedAsync(DbConnection connection, ConnectionEndEventData eventData, CancellationToken cancellationToken = default)
        {
            Apply(connection);
            return Task.CompletedTask;
        }

        private void Apply(DbConnection connection)
        {
            using var command = connection.CreateCommand();
            command.CommandText = Pragmas;
            command.ExecuteNonQuery();
        }

        public async Task ApplyAsync(AuthServerFactory factory, int laneCount)
        {
            var lanes = factory.Services.GetRequiredService<SqliteLanes>();
            var rented = new List<Lane>();
            for (var i = 0; i < laneCount; i++) rented.Add(await lanes.RentAsync(CancellationToken.None));
            foreach (var lane in rented)
            {
                using (var command = lane.Connection.CreateCommand())
                {
                    command.CommandText = Pragmas;
                    await command.ExecuteNonQueryAsync();
                }
                lane.Dispose();
            }
            SqliteConnection.ClearAllPools(); // idle pooled connections open again, through the interceptor
        }
    }

    private sealed class FaultyServer(string connectionString, DiskFaults faults) : AuthServerFactory
    {
        public const int Lanes = 2;

        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            base.ConfigureWebHost(builder);
            builder.UseSetting("ConnectionStrings:AuthServer", connectionString);
            builder.UseSetting("Storage:SqliteLanes", Lanes.ToString(System.Globalization.CultureInfo.InvariantCulture));
            builder.ConfigureTestServices(services => services.ConfigureDbContext<SqliteAuthServerDbContext>(options => options.AddInterceptors(faults)));
        }
    }

    private FaultyServer StartFaulty(DiskFaults faults) => new($"Data Source={DatabasePath};Default Timeout=2", faults);

    [Fact]
    public async Task A_full_database_answers_503_with_retry_after_and_serves_again_once_there_is_room()
    {
        var faults = new DiskFaults();
        using var factory = StartFaulty(faults);
        var device = factory.CreateClient();
        var approved = await device.StartAsync();
        await factory.DecideAsDemoUserAsync(approved.Get("user_code"), approve: true);

        // The disk fills up: the file may not grow by a single page (SQLite keeps the limit at least the current size).
        Interlocked.Exchange(ref faults.MaxPages, 1);
        await faults.ApplyAsync(factory, FaultyServer.Lanes);
        Infrastructure.Protocol.Answer? refused = null;
        for (var i = 0; i < 200 && refused is null; i++)
        {
            var start = await device.StartAsync(deviceName: new string('x', 100));
            if (start.Status != HttpStatusCode.OK) refused = start;
        }
        ShouldBeTemporarilyUnavailable(refused.ShouldNotBeNull("the file never filled up"));
        var ready = await Infrastructure.Protocol.ReadAsync(await device.GetAsync("/health/ready"));
        ready.ShouldBeProblem(HttpStatusCode.ServiceUnavailable);

        // Room again (the disk was cleaned up): no restart, the same server redeems the login approved before.
        Interlocked.Exchange(ref faults.MaxPages, DiskFaults.Unlimited);
        await faults.ApplyAsync(factory, FaultyServer.Lanes);
        factory.Clock.Advance(TimeSpan.FromSeconds(11));
        (await device.GetAsync("/health/ready")).StatusCode.ShouldBe(HttpStatusCode.OK);
        (await device.PollAsync(approved.Get("device_code"))).Status.ShouldBe(HttpStatusCode.OK);
        (await device.StartAsync()).Status.ShouldBe(HttpStatusCode.OK);
    }

    [Fact]
    public async Task A_read_only_database_answers_503_with_retry_after_at_every_writing_door_and_serves_again_once_writable()
    {
        var faults = new DiskFaults();
        using var factory = StartFaulty(faults);
        var device = factory.CreateClient();
        var approved = await device.StartAsync();
        await factory.DecideAsDemoUserAsync(approved.Get("user_code"), approve: true);
        var pending = await device.StartAsync();
        var phone = await PhoneApp.SignInNewAccountAsync(factory);

        faults.ReadOnly = true;
        await faults.ApplyAsync(factory, FaultyServer.Lanes);

        ShouldBeTemporarilyUnavailable(await device.StartAsync());
        ShouldBeTemporarilyUnavailable(await device.PollAsync(approved.Get("device_code")));
        var scan = await phone.ScanAsync(pending.Get("user_code"));
        scan.ShouldBeProblem(HttpStatusCode.ServiceUnavailable, "Service temporarily unavailable");
        scan.Response.Headers.RetryAfter!.Delta.ShouldBe(TimeSpan.FromSeconds(5));

        faults.ReadOnly = false;
        await faults.ApplyAsync(factory, FaultyServer.Lanes);
        (await device.PollAsync(approved.Get("device_code"))).Status.ShouldBe(HttpStatusCode.OK);
        await phone.ScanAndApproveAsync(pending.Get("user_code"));
        (await device.PollAsync(pending.Get("device_code"))).Status.ShouldBe(HttpStatusCode.OK);
    }

    // ---- A deleted file ----

    private sealed class LoggedServer(string connectionString, LogCapture logs) : AuthServerFactory
    {
        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            base.ConfigureWebHost(builder);
            builder.UseSetting("ConnectionStrings:AuthServer", connectionString);
            builder.ConfigureLogging(logging => logging.AddProvider(logs));
        }
    }

    [Fact]
    public async Task A_database_file_deleted_under_the_server_fails_readiness_says_so_in_the_logs_and_refuses_writes_with_503()
    {
        var logs = new LogCapture();
        using var factory = new LoggedServer($"Data Source={DatabasePath}", logs);
        var device = factory.CreateClient();
        var approved = await device.StartAsync();
        await factory.DecideAsDemoUserAsync(approved.Get("user_code"), approve: true);
        (await device.GetAsync("/health/ready")).StatusCode.ShouldBe(HttpStatusCode.OK);

        foreach (var file in Directory.GetFiles(_directory, "shared.db*")) File.Delete(file);

        var ready = await Infrastructure.Protocol.ReadAsync(await device.GetAsync("/health/ready"));
        ready.ShouldBeProblem(HttpStatusCode.ServiceUnavailable, "Database unavailable");
        ready.Get("detail").ShouldContain("deleted");
        ready.Response.Headers.RetryAfter!.Delta.ShouldBe(TimeSpan.FromSeconds(5));
        logs.Lines.ShouldContain(l => l.Level == LogLevel.Error && l.Text.Contains("is gone") && l.Text.Contains(DatabasePath));

        // Writes would go to the deleted file and vanish with the process: they are refused instead.
        ShouldBeTemporarilyUnavailable(await device.StartAsync());
        ShouldBeTemporarilyUnavailable(await device.PollAsync(approved.Get("device_code")));
        logs.Lines.ShouldContain(l => l.Level == LogLevel.Warning && l.Text.Contains("was deleted or moved"));
        File.Exists(DatabasePath).ShouldBeFalse();
    }

    private static void ShouldBeTemporarilyUnavailable(Infrastructure.Protocol.Answer answer)
    {
        answer.Status.ShouldBe(HttpStatusCode.ServiceUnavailable, $"body: {answer.Json}");
        answer.Error.ShouldBe("temporarily_unavailable");
        answer.Response.Headers.RetryAfter!.Delta.ShouldBe(TimeSpan.FromSeconds(5));
    }
}
