using System.Collections.Concurrent;
using AuthServer.Cluster;
using AuthServer.Tests.Infrastructure;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace AuthServer.Tests.Cluster;

/// <summary>
/// The LISTEN/NOTIFY bus on its own, against real PostgreSQL: two buses on one database play two nodes, each handing
/// what it hears to a recorder.
/// </summary>
public sealed class PostgreSqlEventsTests : IAsyncLifetime
{
    private readonly string _database = TestPostgres.CreateDatabase();
    private readonly List<NpgsqlDataSource> _sources = [];
    private readonly List<(PostgreSqlEvents Bus, CancellationTokenSource Stop, Task Listening)> _nodes = [];

    public Task InitializeAsync() => Task.CompletedTask;

    [Fact]
    public async Task Another_nodes_events_arrive_in_order_and_a_node_skips_its_own()
    {
        var (a, heardByA) = StartNode();
        var (b, heardByB) = StartNode();
        await Eventually.TrueAsync(() => a.Connections == 1 && b.Connections == 1, "both nodes to listen");

        await a.PublishAsync(ClusterEvent.LoginRequestChanged("req-1", 2));
        await a.PublishAsync(ClusterEvent.SigningKeysChanged);
        await a.PublishAsync(ClusterEvent.ClientsChanged);

        await Eventually.TrueAsync(() => heardByB.Events.Count == 3, "B to hear A's three events");
        heardByB.Events.ShouldBe([ClusterEvent.LoginRequestChanged("req-1", 2), ClusterEvent.SigningKeysChanged, ClusterEvent.ClientsChanged]);
        // Its own notifications come back to A too; it skips them (it changed its own caches already).
        await b.PublishAsync(ClusterEvent.ClientsChanged);
        await Eventually.TrueAsync(() => heardByA.Events.Count == 1, "A to hear B's event");
        heardByA.Events.ShouldBe([ClusterEvent.ClientsChanged]);
        // Each caught up once, at its first connection.
        heardByA.CatchUps.ShouldBe(1);
        heardByB.CatchUps.ShouldBe(1);
        a.NotListeningSince.ShouldBeNull();
    }

    [Fact]
    public async Task A_node_whose_connection_is_killed_reconnects_catches_up_and_hears_later_events()
    {
        var (a, _) = StartNode();
        var (b, heardByB) = StartNode();
        await Eventually.TrueAsync(() => a.Connections == 1 && b.Connections == 1 && heardByB.CatchUps == 1, "both nodes to listen");
        var backend = b.ListeningBackend!.Value;

        await using (var admin = new NpgsqlConnection(_database))
        {
            await admin.OpenAsync();
            await using var kill = new NpgsqlCommand("SELECT pg_terminate_backend(@pid)", admin);
            kill.Parameters.AddWithValue("pid", backend);
            ((bool)(await kill.ExecuteScalarAsync())!).ShouldBeTrue();
        }

        // B finds out, reconnects on a new backend and re-reads what it holds: whatever it missed is covered.
        await Eventually.TrueAsync(() => b.Connections == 2 && heardByB.CatchUps == 2, "B to reconnect and catch up");
        b.ListeningBackend.ShouldNotBe(backend);
        b.NotListeningSince.ShouldBeNull();

        await a.PublishAsync(ClusterEvent.LoginRequestChanged("req-2", 5));
        await Eventually.TrueAsync(() => heardByB.Events.Count == 1, "B to hear A after reconnecting");
        heardByB.Events.ShouldBe([ClusterEvent.LoginRequestChanged("req-2", 5)]);
    }

    [Fact]
    public async Task Publishing_while_the_database_refuses_is_logged_and_does_not_throw()
    {
        var source = NpgsqlDataSource.Create(new NpgsqlConnectionStringBuilder(_database) { Database = "no_such_database_" + Guid.NewGuid().ToString("N") }.ConnectionString);
        _sources.Add(source);
        await using var bus = new PostgreSqlEvents(source, source.ConnectionString, TimeProvider.System, NullLogger<PostgreSqlEvents>.Instance);

        await Should.NotThrowAsync(async () => await bus.PublishAsync(ClusterEvent.ClientsChanged));
        bus.NotListeningSince.ShouldNotBeNull();
    }

    [Theory]
    [InlineData("n1 r 0b4c-id 7", true)]
    [InlineData("n1 k", true)]
    [InlineData("n1 c", true)]
    [InlineData("n1 r id", false)]
    [InlineData("n1 r id -1", false)]
    [InlineData("n1 x", false)]
    [InlineData("", false)]
    public void The_wire_form_reads_back_and_anything_else_is_ignored(string payload, bool valid)
    {
        ClusterEvent.TryParse(payload, out var node, out var parsed).ShouldBe(valid);
        if (valid)
        {
            node.ShouldBe("n1");
            parsed.Format(node).ShouldBe(payload);
        }
    }

    private (PostgreSqlEvents Bus, Recorder Heard) StartNode()
    {
        var source = NpgsqlDataSource.Create(_database);
        _sources.Add(source);
        var bus = new PostgreSqlEvents(source, _database, TimeProvider.System, NullLogger<PostgreSqlEvents>.Instance);
        var heard = new Recorder();
        var stop = new CancellationTokenSource();
        _nodes.Add((bus, stop, bus.ListenAsync(heard, stop.Token)));
        return (bus, heard);
    }

    private sealed class Recorder : IClusterEventSink
    {
        private int _catchUps;
        public ConcurrentQueue<ClusterEvent> Events { get; } = new();
        public int CatchUps => Volatile.Read(ref _catchUps);

        public Task HandleAsync(ClusterEvent change, CancellationToken cancellationToken)
        {
            Events.Enqueue(change);
            return Task.CompletedTask;
        }

        public Task<int> CatchUpAsync(CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _catchUps);
            return Task.FromResult(0);
        }
    }

    public async Task DisposeAsync()
    {
        foreach (var (bus, stop, listening) in _nodes)
        {
            await stop.CancelAsync();
            await listening;
            await bus.DisposeAsync();
        }
        foreach (var source in _sources) await source.DisposeAsync();
        NpgsqlConnection.ClearAllPools();
        TestPostgres.DropDatabase(_database);
    }
}
