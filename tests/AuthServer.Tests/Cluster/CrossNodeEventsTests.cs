using System.Net;
using AuthServer.Cluster;
using AuthServer.DeviceFlow;
using AuthServer.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Npgsql;

namespace AuthServer.Tests.Cluster;

/// <summary>
/// One server on PostgreSQL, with the test playing "another node": it changes a login request's row directly, as
/// another node's transition would, and sends (or withholds) that node's notification.
/// </summary>
public sealed class CrossNodeEventsTests : IDisposable
{
    private readonly PostgreSqlAuthServerFactory _factory = new();

    private PostgreSqlEvents Bus => _factory.Services.GetRequiredService<PostgreSqlEvents>();

    [Fact]
    public async Task Another_nodes_scan_reaches_this_nodes_push_stream()
    {
        var device = _factory.CreateClient();
        var started = await device.StartAsync();
        using var stream = await EventStream.OpenAsync(device, started.Get("device_code"));
        await stream.ExpectEventAsync("pending", 0);
        await Eventually.TrueAsync(() => Bus.Connections >= 1, "the server to listen");

        var id = await ScanElsewhereAsync(started.Get("device_code"));
        await NotifyAsOtherNodeAsync($"othernode r {id} 1");

        await stream.ExpectEventAsync("scanned", 1);
    }

    [Fact]
    public async Task A_stream_catches_up_on_a_transition_missed_while_the_connection_was_down()
    {
        var device = _factory.CreateClient();
        var started = await device.StartAsync();
        using var stream = await EventStream.OpenAsync(device, started.Get("device_code"));
        await stream.ExpectEventAsync("pending", 0);
        await Eventually.TrueAsync(() => Bus.Connections >= 1, "the server to listen");
        var before = Bus.Connections;

        await TerminateAsync(Bus.ListeningBackend!.Value);
        await Eventually.TrueAsync(() => Bus.NotListeningSince is not null, "the server to notice the drop");
        // Another node scans while this one is not listening: its notification reaches nobody here.
        await ScanElsewhereAsync(started.Get("device_code"));

        // The reconnection waits out its backoff on the server's clock; the test moves it until the server is back.
        await Eventually.TrueAsync(() =>
        {
            if (Bus.Connections > before) return true;
            _factory.Clock.Advance(TimeSpan.FromMilliseconds(500));
            return false;
        }, "the server to reconnect");
        await stream.ExpectEventAsync("scanned", 1);
        Bus.NotListeningSince.ShouldBeNull();
    }

    [Fact]
    public async Task A_poll_answers_from_the_row_when_another_node_decided_even_without_its_event()
    {
        var device = _factory.CreateClient();
        var started = await device.StartAsync();
        (await device.PollAsync(started.Get("device_code"))).Error.ShouldBe("authorization_pending");

        await using (var db = await _factory.OpenDatabaseAsync())
            (await db.ExecuteAsync("UPDATE \"DeviceAuthorizations\" SET \"Status\" = 'Denied', \"DecidedAt\" = @now, \"Version\" = \"Version\" + 1 " +
                "WHERE \"DeviceCodeHash\" = @hash",
                ("@now", _factory.Clock.GetUtcNow().ToUnixTimeMilliseconds()), ("@hash", OpaqueSecret.Hash(started.Get("device_code"))))).ShouldBe(1);

        _factory.Clock.Advance(TimeSpan.FromSeconds(5));
        var poll = await device.PollAsync(started.Get("device_code"));
        poll.Status.ShouldBe(HttpStatusCode.BadRequest);
        poll.Error.ShouldBe("access_denied");
    }

    [Fact]
    public async Task Of_two_polls_that_reach_the_database_together_exactly_one_is_slowed_down()
    {
        var device = _factory.CreateClient();
        var started = await device.StartAsync();
        var deviceCode = started.Get("device_code");
        (await device.PollAsync(deviceCode)).Error.ShouldBe("authorization_pending");
        _factory.Clock.Advance(TimeSpan.FromSeconds(5));

        // Two screens' worth of polls at the same instant, as two nodes would serve them: the row decides.
        var polls = await Task.WhenAll(device.PollAsync(deviceCode), _factory.CreateClient().PollAsync(deviceCode));
        polls.Select(p => p.Error).Order().ShouldBe(["authorization_pending", "slow_down"]);
        polls.ShouldAllBe(p => p.Status == HttpStatusCode.BadRequest);

        // The raised interval is in the row, where every node reads it (RFC 8628 §3.5: 5 seconds more).
        await using var db = await _factory.OpenDatabaseAsync();
        (await db.ScalarAsync<int>("SELECT \"IntervalSeconds\" FROM \"DeviceAuthorizations\" WHERE \"DeviceCodeHash\" = @hash",
            ("@hash", OpaqueSecret.Hash(deviceCode)))).ShouldBe(10);
        _factory.Clock.Advance(TimeSpan.FromSeconds(5));
        (await device.PollAsync(deviceCode)).Error.ShouldBe("slow_down"); // now 15 s
        _factory.Clock.Advance(TimeSpan.FromSeconds(15));
        (await device.PollAsync(deviceCode)).Error.ShouldBe("authorization_pending");
    }

    [Fact]
    public async Task A_client_created_on_another_node_is_known_here_after_its_event()
    {
        var device = _factory.CreateClient();
        await using (var db = await _factory.OpenDatabaseAsync())
            (await db.ExecuteAsync(
                "INSERT INTO \"OpenIddictApplications\" (\"Id\", \"ClientId\", \"ClientType\", \"ConsentType\", \"DisplayName\", \"Permissions\", " +
                "\"ApplicationType\", \"Settings\", \"ConcurrencyToken\") SELECT @id, 'other-node-tv', \"ClientType\", \"ConsentType\", 'Other node TV', " +
                "\"Permissions\", \"ApplicationType\", \"Settings\", @token FROM \"OpenIddictApplications\" WHERE \"ClientId\" = 'demo-tv'",
                ("@id", Guid.NewGuid().ToString()), ("@token", Guid.NewGuid().ToString()))).ShouldBe(1);
        (await device.StartAsync("other-node-tv", "openid")).Error.ShouldBe("invalid_client");

        await Eventually.TrueAsync(() => Bus.Connections >= 1, "the server to listen");
        await NotifyAsOtherNodeAsync("othernode c");

        var answer = await Eventually.GetAsync(async () =>
            await device.StartAsync("other-node-tv", "openid") is { Status: HttpStatusCode.OK } ok ? ok : null, "the new client to work here");
        answer.Get("device_code").ShouldNotBeNullOrEmpty();
    }

    [Fact]
    public async Task Readiness_fails_once_the_bus_has_been_down_for_longer_than_configured()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var down = new StubEvents { Since = clock.GetUtcNow() };
        var check = new ClusterReadyCheck(down, Options.Create(new ClusterOptions { NotReadyAfter = TimeSpan.FromSeconds(30) }), clock);

        clock.Advance(TimeSpan.FromSeconds(29));
        (await check.CheckHealthAsync(new HealthCheckContext())).Status.ShouldBe(HealthStatus.Healthy);
        clock.Advance(TimeSpan.FromSeconds(1));
        var result = await check.CheckHealthAsync(new HealthCheckContext());
        result.Status.ShouldBe(HealthStatus.Unhealthy);
        result.Description.ShouldBe("This node has not been listening to the other nodes' events for 30 s.");

        down.Since = null;
        (await check.CheckHealthAsync(new HealthCheckContext())).Status.ShouldBe(HealthStatus.Healthy);
    }

    [Fact]
    public async Task The_ready_endpoint_includes_the_bus_and_answers_ok_while_it_listens()
    {
        await Eventually.TrueAsync(() => Bus.Connections >= 1, "the server to listen");
        var ready = await _factory.CreateClient().GetAsync("/health/ready");
        ready.StatusCode.ShouldBe(HttpStatusCode.OK);
        (await ready.Content.ReadAsStringAsync()).ShouldBe("ok");
        _factory.Services.GetRequiredService<ClusterEvents>().ShouldBeOfType<PostgreSqlEvents>();
    }

    private sealed class StubEvents : ClusterEvents
    {
        public override ValueTask PublishAsync(ClusterEvent change) => ValueTask.CompletedTask;
        public override DateTimeOffset? NotListeningSince => Since;
        public DateTimeOffset? Since { get; set; }
    }

    /// <summary>What another node's scan leaves in the row (Pending → Scanned, version 1), without its notification.</summary>
    private async Task<string> ScanElsewhereAsync(string deviceCode)
    {
        await using var db = await _factory.OpenDatabaseAsync();
        var userId = await db.ScalarAsync<string>("SELECT \"Id\" FROM \"AspNetUsers\" WHERE \"Email\" = @email", ("@email", AuthServerFactory.DemoEmail));
        var id = await db.ScalarAsync<string>("SELECT \"Id\" FROM \"DeviceAuthorizations\" WHERE \"DeviceCodeHash\" = @hash", ("@hash", OpaqueSecret.Hash(deviceCode)));
        (await db.ExecuteAsync(
            "UPDATE \"DeviceAuthorizations\" SET \"Status\" = 'Scanned', \"Version\" = 1, \"SubjectId\" = @user, \"ScannedAt\" = @now WHERE \"Id\" = @id",
            ("@user", userId), ("@now", _factory.Clock.GetUtcNow().ToUnixTimeMilliseconds()), ("@id", id))).ShouldBe(1);
        return id;
    }

    private async Task NotifyAsOtherNodeAsync(string payload)
    {
        await using var db = await _factory.OpenDatabaseAsync();
        await db.ExecuteAsync("SELECT pg_notify(@channel, @payload)", ("@channel", PostgreSqlEvents.Channel), ("@payload", payload));
    }

    private async Task TerminateAsync(int backend)
    {
        await using var db = await _factory.OpenDatabaseAsync();
        (await db.ScalarAsync<bool>("SELECT pg_terminate_backend(@pid)", ("@pid", backend))).ShouldBeTrue();
    }

    public void Dispose() => _factory.Dispose();
}
