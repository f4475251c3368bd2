using AuthServer.Data;
using AuthServer.Data.Entities;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Query;

namespace AuthServer.DeviceFlow;

public enum ScanOutcome
{
    /// <summary>This account holds the claim (now, or from an earlier scan).</summary>
    Claimed,

    /// <summary>Another account scanned first (RFC 8628 §5.5): only that account may decide.</summary>
    ClaimedByAnotherAccount,

    /// <summary>Expired, denied, redeemed or superseded.</summary>
    NotOpen,
}

/// <summary>
/// Every change to a login request goes through here: the verification page and the phone API are two doors to the
/// same transitions. Each transition is one conditional UPDATE ("… WHERE Status IN (allowed sources)"), so concurrent
/// callers resolve to exactly one winner, and then refreshes the node's cache.
/// </summary>
public sealed class DeviceFlowService(AuthServerDbContext db, LiveRequestCache cache, TimeProvider clock, ILogger<DeviceFlowService> logger)
{
    private const int UserCodeAttempts = 5;

    public sealed record Created(string DeviceCode, DeviceAuthorizationState State);

    /// <summary>Starts a login request (RFC 8628 §3.1–3.2).</summary>
    public async Task<Created> CreateAsync(Client client, string scope, string? deviceName, string? ip, string? userAgent, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        for (var attempt = 1; ; attempt++)
        {
            var deviceCode = OpaqueSecret.New();
            var entity = new DeviceAuthorization
            {
                Id = Guid.CreateVersion7(now).ToString("N"),
                DeviceCodeHash = OpaqueSecret.Hash(deviceCode),
                UserCode = UserCode.Generate(),
                ClientId = client.ClientId,
                Scope = scope,
                DeviceName = deviceName,
                RequesterIp = ip,
                RequesterUserAgent = userAgent,
                CreatedAt = now,
                ExpiresAt = now.AddSeconds(client.DeviceCodeLifetimeSeconds),
                IntervalSeconds = client.PollIntervalSeconds,
                Status = DeviceAuthorizationStatus.Pending,
            };
            db.DeviceAuthorizations.Add(entity);
            try
            {
                await db.SaveChangesAsync(cancellationToken);
                var state = DeviceAuthorizationState.From(entity);
                cache.Add(entity.DeviceCodeHash, state);
                return new Created(deviceCode, state);
            }
            catch (DbUpdateException) when (attempt < UserCodeAttempts)
            {
                // A user code collided with a retained one (about 1 in 2^34 per live request): draw again.
                db.ChangeTracker.Clear();
                logger.LogWarning("User code collision; drawing a new code");
            }
        }
    }

    /// <summary>The request behind a device code: from this node's memory, or once from the database.</summary>
    public async Task<LiveRequest?> FindByDeviceCodeAsync(string deviceCode, CancellationToken cancellationToken)
    {
        var hash = OpaqueSecret.Hash(deviceCode);
        if (cache.Find(hash) is { } live) return live;

        var entity = await db.DeviceAuthorizations.AsNoTracking()
            .FirstOrDefaultAsync(d => d.DeviceCodeHash == hash, cancellationToken);
        if (entity is null) return null;

        var added = cache.Add(hash, DeviceAuthorizationState.From(entity));
        // A transition that committed between the read above and the Add found nothing cached to update; read once
        // more so the cache cannot keep a stale snapshot. Misses are rare (first poll after a restart), so this is cheap.
        await ReloadAsync(entity.Id, cancellationToken);
        return added;
    }

    public async Task<DeviceAuthorizationState?> FindByUserCodeAsync(string normalizedUserCode, CancellationToken cancellationToken)
    {
        var entity = await db.DeviceAuthorizations.AsNoTracking()
            .FirstOrDefaultAsync(d => d.UserCode == normalizedUserCode, cancellationToken);
        return entity is null ? null : DeviceAuthorizationState.From(entity);
    }

    /// <summary>
    /// The account has the request in front of it (scanned the QR code or typed the code): Pending → Scanned, claimed by
    /// this account. The first account wins; a second scan by the same account keeps its claim.
    /// </summary>
    public async Task<(ScanOutcome Outcome, DeviceAuthorizationState? State)> ScanAsync(string id, string userId, CancellationToken cancellationToken)
    {
        await TryTransitionAsync(id, DeviceAuthorizationStatus.Scanned, requiredSubject: null,
            (setters, now) => setters
                .SetProperty(d => d.SubjectId, userId)
                .SetProperty(d => d.ScannedAt, now), cancellationToken);
        // Whether this call won or an earlier scan did, the stored row now tells who holds the claim.
        var state = await ReloadAsync(id, cancellationToken);

        if (state is null || !state.IsOpen(clock.GetUtcNow())) return (ScanOutcome.NotOpen, state);
        return state.SubjectId == userId
            ? (ScanOutcome.Claimed, state)
            : (ScanOutcome.ClaimedByAnotherAccount, state);
    }

    /// <summary>Scanned → Approved, only by the account that claimed it. Null when that move is not possible.</summary>
    public Task<DeviceAuthorizationState?> ApproveAsync(string id, string userId, CancellationToken cancellationToken) =>
        TransitionAndReloadAsync(id, DeviceAuthorizationStatus.Approved, requiredSubject: userId,
            (setters, now) => setters.SetProperty(d => d.DecidedAt, now), cancellationToken);

    /// <summary>Scanned → Denied, only by the account that claimed it. Null when that move is not possible.</summary>
    public Task<DeviceAuthorizationState?> DenyAsync(string id, string userId, CancellationToken cancellationToken) =>
        TransitionAndReloadAsync(id, DeviceAuthorizationStatus.Denied, requiredSubject: userId,
            (setters, now) => setters.SetProperty(d => d.DecidedAt, now), cancellationToken);

    /// <summary>Pending/Scanned → Superseded: the waiting screen replaced its QR code with a fresh request.</summary>
    public Task<DeviceAuthorizationState?> SupersedeAsync(string id, CancellationToken cancellationToken) =>
        TransitionAndReloadAsync(id, DeviceAuthorizationStatus.Superseded, requiredSubject: null,
            (setters, now) => setters.SetProperty(d => d.DecidedAt, now), cancellationToken);

    /// <summary>
    /// Approved → Redeemed, recording the linked device. Runs inside the caller's transaction, which also stores what
    /// is issued; the caller publishes the new state after commit with <see cref="ReloadAsync"/>. False when another
    /// poll redeemed the code first, or it expired.
    /// </summary>
    public Task<bool> TryRedeemAsync(string id, string linkedDeviceId, CancellationToken cancellationToken) =>
        TryTransitionAsync(id, DeviceAuthorizationStatus.Redeemed, requiredSubject: null,
            (setters, now) => setters
                .SetProperty(d => d.RedeemedAt, now)
                .SetProperty(d => d.LinkedDeviceId, linkedDeviceId), cancellationToken);

    /// <summary>Reads the request from the database and publishes it to the cache.</summary>
    public async Task<DeviceAuthorizationState?> ReloadAsync(string id, CancellationToken cancellationToken)
    {
        var entity = await db.DeviceAuthorizations.AsNoTracking().FirstOrDefaultAsync(d => d.Id == id, cancellationToken);
        if (entity is null) return null;
        var state = DeviceAuthorizationState.From(entity);
        cache.Update(state);
        return state;
    }

    private async Task<DeviceAuthorizationState?> TransitionAndReloadAsync(
        string id, DeviceAuthorizationStatus to, string? requiredSubject, SetAlso also, CancellationToken cancellationToken) =>
        await TryTransitionAsync(id, to, requiredSubject, also, cancellationToken)
            ? await ReloadAsync(id, cancellationToken)
            : null;

    private delegate void SetAlso(UpdateSettersBuilder<DeviceAuthorization> setters, DateTimeOffset now);

    /// <summary>
    /// Moves the request to <paramref name="to"/> if, at the moment of the UPDATE, it is in one of the states that may
    /// lead there (<see cref="DeviceAuthorizationTransitions"/>), has not expired, and (when given) is claimed by
    /// <paramref name="requiredSubject"/>. One statement, so of any number of concurrent callers exactly one wins.
    /// </summary>
    private async Task<bool> TryTransitionAsync(
        string id, DeviceAuthorizationStatus to, string? requiredSubject, SetAlso also, CancellationToken cancellationToken)
    {
        var sources = DeviceAuthorizationTransitions.SourcesOf(to);
        var now = clock.GetUtcNow();
        var query = db.DeviceAuthorizations.Where(d => d.Id == id && sources.Contains(d.Status) && d.ExpiresAt > now);
        if (requiredSubject is not null) query = query.Where(d => d.SubjectId == requiredSubject);

        var changed = await query.ExecuteUpdateAsync(setters =>
        {
            setters.SetProperty(d => d.Status, to).SetProperty(d => d.Version, d => d.Version + 1);
            also(setters, now);
        }, cancellationToken);

        if (changed == 0) return false;
        logger.LogInformation("Login request {Id} is now {Status}", id, to);
        return true;
    }
}
