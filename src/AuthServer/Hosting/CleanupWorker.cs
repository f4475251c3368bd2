using System.ComponentModel.DataAnnotations;
using AuthServer.Data;
using AuthServer.DeviceFlow;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace AuthServer.Hosting;

/// <summary>The <c>Cleanup</c> configuration section: how long ended rows are kept, and how the pruning paces itself.</summary>
public sealed class CleanupOptions
{
    public const string Section = "Cleanup";

    /// <summary>How often a cleanup run starts.</summary>
    public TimeSpan Period { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>How long a login request is kept after it expired (for support questions).</summary>
    public TimeSpan LoginRequestRetention { get; set; } = TimeSpan.FromDays(1);

    /// <summary>How long a token or authorization (linked device, consent) is kept after it was created, once it has ended.</summary>
    public TimeSpan TokenRetention { get; set; } = TimeSpan.FromDays(1);

    /// <summary>How long audit events are kept.</summary>
    public TimeSpan AuditRetention { get; set; } = TimeSpan.FromDays(365);

    /// <summary>The most rows one statement looks at or deletes.</summary>
    [Range(1, 100_000)] public int BatchSize { get; set; } = 500;

    /// <summary>The pause between two batches, so requests get the database (and on SQLite its one writer) in between.</summary>
    public TimeSpan BatchPause { get; set; } = TimeSpan.FromMilliseconds(50);
}

public static class CleanupRegistration
{
    public static IServiceCollection AddCleanup(this IServiceCollection services)
    {
        services.AddOptions<CleanupOptions>().BindConfiguration(CleanupOptions.Section).ValidateDataAnnotations()
            .Validate(o => o.Period > TimeSpan.Zero && o.BatchPause >= TimeSpan.Zero && o.LoginRequestRetention >= TimeSpan.Zero
                    && o.TokenRetention >= TimeSpan.Zero && o.AuditRetention > TimeSpan.Zero,
                "Cleanup: Period and AuditRetention must be positive; the other times must not be negative.")
            .ValidateOnStart();
        services.AddScoped<CleanupJob>();
        services.AddHostedService<CleanupWorker>();
        return services;
    }
}

/// <summary>Runs <see cref="CleanupJob"/> every <see cref="CleanupOptions.Period"/>.</summary>
public sealed class CleanupWorker(IServiceScopeFactory scopes, TimeProvider clock, IOptions<CleanupOptions> options, ILogger<CleanupWorker> logger)
    : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.Period, clock);
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

/// <summary>What one cleanup run deleted, and in how many batches.</summary>
public sealed record CleanupResult(int LoginRequests, int Tokens, int Authorizations, int AuditEvents, int Batches);

/// <summary>
/// Deletes what can no longer be used: login requests a retention period after they expired, tokens and authorizations
/// (linked devices, consents) that have ended, and audit events past their retention; ended rate-limit windows and DPoP proof ids
/// past their time; and forgets ended requests held in memory. Every statement touches at most <see cref="CleanupOptions.BatchSize"/> rows, with a pause between
/// batches, so a large backlog is worked off in small steps that never hold the database (or SQLite's single writer)
/// for long (OpenIddict issue #1819 shows what pruning a large table without such bounds costs: a CPU storm).
/// </summary>
public sealed class CleanupJob(
    AuthServerDbContext db, LiveRequestCache cache, RateLimits.RateLimiters limits, Dpop.IDpopReplayStore replays, TimeProvider clock,
    IOptions<CleanupOptions> options, ILogger<CleanupJob> logger)
{
    /// <summary>A poll a little after expiry is still answered from memory with <c>expired_token</c>.</summary>
    public static readonly TimeSpan MemoryGrace = TimeSpan.FromMinutes(5);

    private int _batches;

    public async Task<CleanupResult> RunAsync(CancellationToken cancellationToken)
    {
        var settings = options.Value;
        var now = clock.GetUtcNow();
        _batches = 0;

        var requestCutoff = now - settings.LoginRequestRetention;
        var requests = await RepeatAsync(() => db.DeviceAuthorizations.Where(d => d.ExpiresAt < requestCutoff)
            .OrderBy(d => d.ExpiresAt).Take(settings.BatchSize).ExecuteDeleteAsync(cancellationToken), cancellationToken);

        // OpenIddict's dates are UTC DateTime columns. A token ends when it is no longer usable (redeemed, revoked,
        // rejected), expires, or its authorization was revoked; it is kept for TokenRetention after its creation.
        var tokenCutoff = (now - settings.TokenRetention).UtcDateTime;
        var utcNow = now.UtcDateTime;
        var tokens = await ByIdWindowsAsync(db.Tokens.Select(t => t.Id!), (from, to) => db.Tokens
            .Where(t => (from == null || string.Compare(t.Id, from) > 0) && (to == null || string.Compare(t.Id, to) <= 0))
            .Where(t => t.CreationDate < tokenCutoff
                && ((t.Status != Statuses.Valid && t.Status != Statuses.Inactive)
                    || t.ExpirationDate < utcNow
                    || db.Authorizations.Any(a => a.Id == t.AuthorizationId && a.Status != Statuses.Valid)))
            .ExecuteDeleteAsync(cancellationToken), cancellationToken);

        // An authorization goes once no token refers to it: a revoked one, or a linked device (ad hoc) whose tokens
        // are all gone. A valid consent (permanent) stays.
        var authorizations = await ByIdWindowsAsync(db.Authorizations.Select(a => a.Id!), (from, to) => db.Authorizations
            .Where(a => (from == null || string.Compare(a.Id, from) > 0) && (to == null || string.Compare(a.Id, to) <= 0))
            .Where(a => a.CreationDate < tokenCutoff && (a.Status != Statuses.Valid || a.Type == AuthorizationTypes.AdHoc)
                && !db.Tokens.Any(t => t.AuthorizationId == a.Id))
            .ExecuteDeleteAsync(cancellationToken), cancellationToken);

        var auditCutoff = now - settings.AuditRetention;
        var audit = await RepeatAsync(() => db.AuditEvents.Where(a => a.At < auditCutoff)
            .OrderBy(a => a.Id).Take(settings.BatchSize).ExecuteDeleteAsync(cancellationToken), cancellationToken);

        var evicted = cache.Evict(now - MemoryGrace);
        // Small tables (one row per live window or proof id), pruned whole.
        var windows = await limits.PruneAsync(cancellationToken);
        var proofs = await replays.PruneAsync(now, cancellationToken);
        if (requests + tokens + authorizations + audit + evicted + windows + proofs > 0)
            logger.LogInformation("Cleanup removed {Requests} login requests, {Tokens} tokens, {Authorizations} authorizations, "
                + "{Audit} audit events in {Batches} batches, {Evicted} cached requests, {Windows} rate-limit windows and {Proofs} DPoP proof ids",
                requests, tokens, authorizations, audit, _batches, evicted, windows, proofs);
        return new CleanupResult(requests, tokens, authorizations, audit, _batches);
    }

    /// <summary>Runs a bounded delete until it deletes less than a full batch, pausing after each full one.</summary>
    private async Task<int> RepeatAsync(Func<Task<int>> batch, CancellationToken cancellationToken)
    {
        var total = 0;
        while (true)
        {
            var deleted = await batch();
            _batches++;
            total += deleted;
            if (deleted < options.Value.BatchSize) return total;
            await PauseAsync(cancellationToken);
        }
    }

    /// <summary>
    /// Walks a table in windows of <see cref="CleanupOptions.BatchSize"/> consecutive ids (the primary key's order) and
    /// runs <paramref name="deleteIn"/> on each (ids after <c>from</c>, up to and including <c>to</c>; null for an open
    /// end). The conditions of the tables without an index for them (OpenIddict's tokens and authorizations) then look
    /// at one window's rows per statement however few of them match, and one run visits each row once.
    /// </summary>
    private async Task<int> ByIdWindowsAsync(IQueryable<string> ids, Func<string?, string?, Task<int>> deleteIn, CancellationToken cancellationToken)
    {
        var total = 0;
        string? from = null;
        while (true)
        {
            var start = from;
            var window = start is null ? ids : ids.Where(id => string.Compare(id, start) > 0);
            // The window's last id; null when fewer than a batch are left, so this window is the last one.
            var to = await window.OrderBy(id => id).Skip(options.Value.BatchSize - 1).FirstOrDefaultAsync(cancellationToken);
            total += await deleteIn(from, to);
            _batches++;
            if (to is null) return total;
            from = to;
            await PauseAsync(cancellationToken);
        }
    }

    private async Task PauseAsync(CancellationToken cancellationToken)
    {
        if (options.Value.BatchPause > TimeSpan.Zero) await Task.Delay(options.Value.BatchPause, clock, cancellationToken);
        else await Task.Yield();
    }
}
