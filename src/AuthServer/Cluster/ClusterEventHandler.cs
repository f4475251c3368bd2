using AuthServer.Clients;
using AuthServer.DeviceFlow;
using AuthServer.Tokens;

namespace AuthServer.Cluster;

/// <summary>
/// What this node does when another node changed something: reload it from the database into the cache that holds
/// it. A login request is reloaded only when this node holds it at an older version, so a repeated or late event is a
/// dictionary lookup; publishing the reloaded row wakes this node's push streams for it.
/// </summary>
/// <remarks>
/// No other per-node cache needs an event: OpenIddict's entity caches and our token and authorization stores'
/// memory live for one request (scoped), so a revocation on another node is seen by the next request here. The
/// guessing-limit counters and the DPoP replay cache are shared elsewhere.
/// </remarks>
public sealed class ClusterEventHandler(
    LiveRequestCache cache, DeviceAuthorizationSql sql, SigningKeyStore keys, ClientStore clients, ILogger<ClusterEventHandler> logger)
    : IClusterEventSink
{
    public async Task HandleAsync(ClusterEvent change, CancellationToken cancellationToken)
    {
        switch (change.Kind)
        {
            case ClusterEventKind.LoginRequestChanged:
                if (cache.FindById(change.Id!) is { } live && live.State.Version < change.Version)
                    await ReloadAsync(change.Id!, cancellationToken);
                break;
            case ClusterEventKind.SigningKeysChanged:
                await keys.ReloadAsync(cancellationToken);
                logger.LogInformation("Signing keys reloaded: another node changed them");
                break;
            case ClusterEventKind.ClientsChanged:
                await clients.ReloadAsync(cancellationToken);
                break;
        }
    }

    public async Task<int> CatchUpAsync(CancellationToken cancellationToken)
    {
        // One read per request held: a catch-up follows a reconnection, rarely, and each read is a prepared
        // primary-key lookup.
        var ids = cache.Ids;
        foreach (var id in ids) await ReloadAsync(id, cancellationToken);
        await keys.ReloadAsync(cancellationToken);
        await clients.ReloadAsync(cancellationToken);
        return ids.Count;
    }

    private async Task ReloadAsync(string id, CancellationToken cancellationToken)
    {
        if (await sql.FindByIdAsync(id, cancellationToken) is { } state) cache.Apply(state);
        // Deleted by cleanup, long after it ended: nothing can poll it any more.
        else cache.Forget(id);
    }
}

/// <summary>
/// Runs this node's listening connection (<see cref="PostgreSqlEvents.ListenAsync"/>), and reloads the client
/// snapshot every <see cref="ClusterOptions.ReloadInterval"/> as a fallback; the signing keys have their own
/// (<see cref="Hosting.KeyRotationWorker"/>).
/// </summary>
public sealed class ClusterListener(
    PostgreSqlEvents events, ClusterEventHandler handler, ClientStore clients, Microsoft.Extensions.Options.IOptions<ClusterOptions> options,
    TimeProvider clock, ILogger<ClusterListener> logger) : BackgroundService
{
    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Task.WhenAll(events.ListenAsync(handler, stoppingToken), ReloadClientsAsync(stoppingToken));

    private async Task ReloadClientsAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.ReloadInterval, clock);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                try
                {
                    await clients.ReloadAsync(stoppingToken);
                }
                catch (Exception error) when (error is not OperationCanceledException)
                {
                    logger.LogWarning(error, "The periodic client reload failed; trying again next period");
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Shutting down.
        }
    }
}
