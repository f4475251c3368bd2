using AuthServer.Data;
using AuthServer.DeviceFlow;
using Microsoft.EntityFrameworkCore;

using OpenIddict.Abstractions;

namespace AuthServer.Hosting;

/// <summary>Runs <see cref="CleanupJob"/> every few minutes.</summary>
public sealed class CleanupWorker(IServiceScopeFactory scopes, TimeProvider clock, ILogger<CleanupWorker> logger) : BackgroundService
{
    private static readonly TimeSpan Period = TimeSpan.FromMinutes(5);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Period, clock);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                await using var scope = scopes.CreateAsyncScope();
                await scope.ServiceProvider.GetRequiredService<CleanupJob>().RunAsync(stoppingToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                logger.LogError(ex, "Cleanup failed; trying again next period");
            }
        }
    }
}

/// <summary>
/// Deletes what can no longer be used: login requests a day after they expired (kept that long for support questions),
/// and, through OpenIddict's own pruning, tokens and authorizations (linked devices) that ended a day ago, or
/// authorizations left without a valid token; ended rate-limit windows and DPoP proof ids past their time; and forgets
/// ended requests held in memory.
/// </summary>
public sealed class CleanupJob(
    AuthServerDbContext db, IOpenIddictTokenManager tokens, IOpenIddictAuthorizationManager authorizations, LiveRequestCache cache,
    RateLimits.RateLimiters limits, Dpop.IDpopReplayStore replays, TimeProvider clock, ILogger<CleanupJob> logger)
{
    public static readonly TimeSpan Retention = TimeSpan.FromDays(1);

    /// <summary>A poll a little after expiry is still answered from memory with <c>expired_token</c>.</summary>
    public static readonly TimeSpan MemoryGrace = TimeSpan.FromMinutes(5);

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        var cutoff = now - Retention;
        var requests = await db.DeviceAuthorizations.Where(d => d.ExpiresAt < cutoff).ExecuteDeleteAsync(cancellationToken);
        var pruned = await tokens.PruneAsync(cutoff, cancellationToken);
        var devices = await authorizations.PruneAsync(cutoff, cancellationToken);
        var evicted = cache.Evict(now - MemoryGrace);
        var windows = await limits.PruneAsync(cancellationToken);
        var proofs = replays is Tokens.SharedDpopReplayStore shared ? await shared.PruneAsync(now, cancellationToken) : 0;
        if (requests + pruned + devices + evicted + windows + proofs > 0)
            logger.LogInformation("Cleanup removed {Requests} login requests, {Tokens} tokens, {Devices} authorizations, {Evicted} cached requests, {Windows} rate-limit windows, {Proofs} DPoP proof ids",
                requests, pruned, devices, evicted, windows, proofs);
    }
}
