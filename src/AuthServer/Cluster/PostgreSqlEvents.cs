using System.Threading.Channels;
using Npgsql;

namespace AuthServer.Cluster;

/// <summary>The <c>Cluster</c> configuration section (PostgreSQL only: SQLite is one node).</summary>
public sealed class ClusterOptions
{
    public const string Section = "Cluster";

    /// <summary>How long the notification connection may be down before <c>/health/ready</c> reports this node not ready.</summary>
    public TimeSpan NotReadyAfter { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How often each node reloads its client snapshot whatever the events said: the fallback for a lost one.</summary>
    public TimeSpan ReloadInterval { get; set; } = TimeSpan.FromMinutes(5);
}

/// <summary>
/// The cluster event bus over PostgreSQL <c>LISTEN</c>/<c>NOTIFY</c>. Publishing is one <c>SELECT pg_notify(…)</c> on a
/// connection of the shared pool, right after the change committed; PostgreSQL delivers a notification to every
/// listening session once its transaction commits, in commit order. Listening holds one dedicated connection per node
/// (outside the pool, so the pool's resets and limits never touch it) waiting in <see cref="NpgsqlConnection.WaitAsync(TimeSpan, CancellationToken)"/>.
/// </summary>
/// <remarks>
/// PostgreSQL keeps no notification for a session that is not listening, so a node that lost its connection may have
/// missed some. It therefore reconnects with backoff and, once listening again, re-reads everything it holds in
/// memory (<see cref="IClusterEventSink.CatchUpAsync"/>): every login request, the signing keys and the clients. The
/// same happens at the first connection, which covers changes made between start-up's loads and the LISTEN. Since
/// events carry versions and receivers reload rows, a notification that arrives during or after a catch-up is
/// applied at most once. A node's own notifications come back to it too and are skipped by their node id.
/// </remarks>
public sealed class PostgreSqlEvents : ClusterEvents, IAsyncDisposable
{
    /// <summary>The one channel every node listens on; a payload is a <see cref="ClusterEvent"/>'s wire form.</summary>
    public const string Channel = "authserver_events";

    /// <summary>An idle listening connection is checked this often, so a silently broken one is found and replaced.</summary>
    public static readonly TimeSpan KeepAliveInterval = TimeSpan.FromSeconds(15);

    public static readonly TimeSpan FirstBackoff = TimeSpan.FromMilliseconds(200);
    public static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(10);

    private readonly NpgsqlDataSource _pool;
    private readonly NpgsqlDataSource _listening;
    private readonly TimeProvider _clock;
    private readonly ILogger<PostgreSqlEvents> _logger;
    private readonly Lock _gate = new();
    private DateTimeOffset? _notListeningSince;
    private long _connections;

    /// <param name="pool">The process's shared data source, which publishing uses.</param>
    /// <param name="connectionString">The same database's connection string, for the dedicated listening connection.</param>
    public PostgreSqlEvents(NpgsqlDataSource pool, string connectionString, TimeProvider clock, ILogger<PostgreSqlEvents> logger)
    {
        _pool = pool;
        _clock = clock;
        _logger = logger;
        _notListeningSince = clock.GetUtcNow();
        var settings = new NpgsqlConnectionStringBuilder(connectionString)
        {
            Pooling = false,
            ApplicationName = "AuthServer cluster events",
            // One statement (LISTEN) and a keep-alive: nothing to prepare.
            MaxAutoPrepare = 0,
        };
        _listening = new NpgsqlDataSourceBuilder(settings.ConnectionString).Build();
    }

    /// <summary>This process's id on the channel, so it can skip its own notifications.</summary>
    public string Node { get; } = Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(6));

    public override DateTimeOffset? NotListeningSince
    {
        get { lock (_gate) return _notListeningSince; }
    }

    /// <summary>How many times the listening connection was opened (1 after start-up, 2 after one reconnect…).</summary>
    public long Connections => Interlocked.Read(ref _connections);

    /// <summary>The backend process id of the listening connection while connected, for tests that cut it.</summary>
    public int? ListeningBackend { get; private set; }

    public override async ValueTask PublishAsync(ClusterEvent change)
    {
        try
        {
            await using var command = _pool.CreateCommand("SELECT pg_notify(@channel, @payload)");
            command.Parameters.AddWithValue("channel", Channel);
            command.Parameters.AddWithValue("payload", change.Format(Node));
            // Not the request's token: once the change is committed the announcement goes out even if the caller left.
            await command.ExecuteNonQueryAsync(CancellationToken.None);
        }
        catch (Exception error)
        {
            // Failing to notify means the database is in trouble, which drops the other nodes' listening connections
            // too; they catch up when they are back. The change itself stands.
            _logger.LogWarning(error, "Could not announce {Kind} to the other nodes", change.Kind);
        }
    }

    /// <summary>
    /// Listens until <paramref name="stoppingToken"/> fires, handing every other node's event to
    /// <paramref name="sink"/> one at a time, in the order they arrived.
    /// </summary>
    public async Task ListenAsync(IClusterEventSink sink, CancellationToken stoppingToken)
    {
        var work = System.Threading.Channels.Channel.CreateUnbounded<ClusterEvent?>(new UnboundedChannelOptions { SingleReader = true });
        var applying = ApplyAsync(work.Reader, sink, stoppingToken);
        var backoff = FirstBackoff;
        var failures = 0;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await using var connection = await _listening.OpenConnectionAsync(stoppingToken);
                connection.Notification += (_, notification) =>
                {
                    if (ClusterEvent.TryParse(notification.Payload, out var node, out var change) && node != Node)
                        work.Writer.TryWrite(change);
                };
                await using (var listen = new NpgsqlCommand($"LISTEN {Channel}", connection))
                    await listen.ExecuteNonQueryAsync(stoppingToken);

                ListeningBackend = connection.ProcessID;
                Interlocked.Increment(ref _connections);
                DateTimeOffset? downSince;
                lock (_gate) (downSince, _notListeningSince) = (_notListeningSince, null);
                if (failures > 0)
                    _logger.LogInformation("Cluster events: listening again after {Seconds:0.0} s and {Attempts} attempts; catching up",
                        (_clock.GetUtcNow() - downSince.GetValueOrDefault(_clock.GetUtcNow())).TotalSeconds, failures);
                failures = 0;
                backoff = FirstBackoff;
                // Null: catch up. Queued after LISTEN, so whatever changes after the re-read is notified.
                work.Writer.TryWrite(null);

                while (true)
                {
                    if (!await connection.WaitAsync(KeepAliveInterval, stoppingToken))
                    {
                        await using var ping = new NpgsqlCommand("SELECT 1", connection);
                        await ping.ExecuteNonQueryAsync(stoppingToken);
                    }
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception error)
            {
                ListeningBackend = null;
                lock (_gate) _notListeningSince ??= _clock.GetUtcNow();
                if (failures++ == 0)
                    _logger.LogWarning(error, "Cluster events: the notification connection dropped; reconnecting, first in {Milliseconds} ms",
                        backoff.TotalMilliseconds);
                else
                    _logger.LogDebug(error, "Cluster events: reconnection attempt {Attempt} failed", failures);
                try
                {
                    await Task.Delay(backoff, _clock, stoppingToken);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
                backoff = backoff * 2 < MaxBackoff ? backoff * 2 : MaxBackoff;
            }
        }
        ListeningBackend = null;
        work.Writer.TryComplete();
        await applying;
    }

    /// <summary>
    /// Applies events one at a time. One that fails (the database is away again) turns into a catch-up, retried with
    /// backoff until it succeeds: a catch-up covers every event before it.
    /// </summary>
    private async Task ApplyAsync(ChannelReader<ClusterEvent?> events, IClusterEventSink sink, CancellationToken stoppingToken)
    {
        try
        {
            await foreach (var change in events.ReadAllAsync(stoppingToken))
            {
                var catchUp = change is null;
                var backoff = FirstBackoff;
                while (true)
                {
                    try
                    {
                        if (catchUp)
                        {
                            var requests = await sink.CatchUpAsync(stoppingToken);
                            _logger.LogInformation("Cluster events: caught up ({Requests} login requests re-read, keys and clients reloaded)", requests);
                        }
                        else await sink.HandleAsync(change!.Value, stoppingToken);
                        break;
                    }
                    catch (Exception error) when (error is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
                    {
                        _logger.LogWarning(error, "Cluster events: applying {What} failed; catching up in {Milliseconds} ms",
                            catchUp ? "a catch-up" : change!.Value.Kind.ToString(), backoff.TotalMilliseconds);
                        catchUp = true;
                        await Task.Delay(backoff, _clock, stoppingToken);
                        backoff = backoff * 2 < MaxBackoff ? backoff * 2 : MaxBackoff;
                    }
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Shutting down.
        }
    }

    public ValueTask DisposeAsync() => _listening.DisposeAsync();
}
