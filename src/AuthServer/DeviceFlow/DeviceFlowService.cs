using AuthServer.Clients;
using AuthServer.Data;
using AuthServer.Data.Entities;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Query;
using System.Security.Cryptography;
using System.Text;

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
public sealed class DeviceFlowService(
    AuthServerDbContext db, LiveRequestCache cache, ClientStore clients, TimeProvider clock, ILogger<DeviceFlowService> logger)
{
    private const int UserCodeAttempts = 5;

    public sealed record Created(string DeviceCode, DeviceAuthorizationState State);

    /// <summary>Starts a login request (RFC 8628 §3.1–3.2).</summary>
    public async Task<Created> CreateAsync(
        Client client, string scope, string? deviceName, string? ip, string? userAgent, string? dpopJkt, CancellationToken cancellationToken)
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
                DpopJkt = dpopJkt,
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
    /// this account. The first account wins; a second scan by the same account keeps its claim. For number-matching
    /// clients the scan also draws the number the waiting screen will show.
    /// </summary>
    public async Task<(ScanOutcome Outcome, DeviceAuthorizationState? State)> ScanAsync(
        DeviceAuthorizationState request, string userId, CancellationToken cancellationToken)
    {
        var id = request.Id;
        var matchNumber = clients.Find(request.ClientId)?.NumberMatching == true ? NumberMatching.NewNumber() : (int?)null;
        await TryTransitionAsync(id, DeviceAuthorizationStatus.Scanned, new Conditions(), (setters, now) => setters
            .SetProperty(d => d.SubjectId, userId)
            .SetProperty(d => d.ScannedAt, now)
            .SetProperty(d => d.MatchNumber, matchNumber), cancellationToken);
        // Whether this call won or an earlier scan did, the stored row now tells who holds the claim.
        var state = await ReloadAsync(id, cancellationToken);

        if (state is null || !state.IsOpen(clock.GetUtcNow())) return (ScanOutcome.NotOpen, state);
        return state.SubjectId == userId
            ? (ScanOutcome.Claimed, state)
            : (ScanOutcome.ClaimedByAnotherAccount, state);
    }

    /// <summary>
    /// Gives the phone that scanned a one-time confirm ticket, bound to the account and to the phone's own device id.
    /// A new ticket replaces the previous one, so only the latest scan can decide. Null when the request is no longer
    /// open or not claimed by this account.
    /// </summary>
    public async Task<(string Ticket, DateTimeOffset ExpiresAt)?> IssueConfirmTicketAsync(
        DeviceAuthorizationState state, string userId, string phoneDeviceId, CancellationToken cancellationToken)
    {
        var ticket = OpaqueSecret.New();
        var now = clock.GetUtcNow();
        var expiresAt = now + ConfirmTicketLifetime < state.ExpiresAt ? now + ConfirmTicketLifetime : state.ExpiresAt;
        var issued = await db.DeviceAuthorizations
            .Where(d => d.Id == state.Id && d.Status == DeviceAuthorizationStatus.Scanned && d.SubjectId == userId && d.ExpiresAt > now)
            .ExecuteUpdateAsync(s => s
                .SetProperty(d => d.ConfirmTicketHash, OpaqueSecret.Hash(ticket))
                .SetProperty(d => d.ConfirmTicketExpiresAt, expiresAt)
                .SetProperty(d => d.ConfirmTicketDeviceId, phoneDeviceId), cancellationToken);
        return issued == 1 ? (ticket, expiresAt) : null;
    }

    /// <summary>How long the phone has between scan and decision.</summary>
    public static readonly TimeSpan ConfirmTicketLifetime = TimeSpan.FromMinutes(2);

    /// <summary>
    /// Approves or denies a scanned request, for the account that claimed it. The phone API proves the scan with its
    /// confirm ticket (<paramref name="ticket"/>); the verification page's signed-in session is its own proof. For
    /// number-matching clients an approval must carry the screen's number; a wrong one denies the request.
    /// </summary>
    public async Task<(DecisionOutcome Outcome, DeviceAuthorizationState? State)> DecideAsync(
        string id, string userId, bool approve, int? number, TicketProof? ticket, CancellationToken cancellationToken)
    {
        var entity = await db.DeviceAuthorizations.AsNoTracking().FirstOrDefaultAsync(d => d.Id == id, cancellationToken);
        if (entity is null) return (DecisionOutcome.NotFound, null);
        var state = DeviceAuthorizationState.From(entity);
        var now = clock.GetUtcNow();
        if (entity.SubjectId is not null && entity.SubjectId != userId) return (DecisionOutcome.NotYours, state);

        // A ticket that is not this scan's current one (wrong, used, from another phone) is refused as such, before
        // anything is said about the request; an expired request is then "gone" even with a once-valid ticket.
        string? ticketHash = null;
        if (ticket is not null)
        {
            ticketHash = OpaqueSecret.Hash(ticket.Ticket);
            var matches = entity.ConfirmTicketHash is { } stored
                && CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(stored), Encoding.ASCII.GetBytes(ticketHash))
                && entity.ConfirmTicketDeviceId == ticket.PhoneDeviceId;
            if (!matches) return (DecisionOutcome.WrongTicket, state);
        }
        if (!state.IsOpen(now)) return (DecisionOutcome.NotOpen, state);
        if (entity.SubjectId != userId) return (DecisionOutcome.NotYours, state);
        if (ticket is not null && !(entity.ConfirmTicketExpiresAt > now)) return (DecisionOutcome.WrongTicket, state);

        var wrongNumber = approve && entity.MatchNumber is { } expected && number != expected;
        var to = approve && !wrongNumber ? DeviceAuthorizationStatus.Approved : DeviceAuthorizationStatus.Denied;
        var moved = await TryTransitionAsync(id, to, new Conditions(userId, ticketHash), (setters, at) => setters
            .SetProperty(d => d.DecidedAt, at)
            // The ticket is single-use: whatever the decision, it is spent.
            .SetProperty(d => d.ConfirmTicketHash, (string?)null)
            .SetProperty(d => d.ConfirmTicketExpiresAt, (DateTimeOffset?)null), cancellationToken);
        var current = await ReloadAsync(id, cancellationToken);
        if (!moved)
            return (ticket is not null && current?.IsOpen(clock.GetUtcNow()) == true ? DecisionOutcome.WrongTicket : DecisionOutcome.NotOpen, current);
        return (wrongNumber ? DecisionOutcome.WrongNumber : approve ? DecisionOutcome.Approved : DecisionOutcome.Denied, current);
    }

    /// <summary>Pending/Scanned → Superseded: the waiting screen replaced its QR code with a fresh request.</summary>
    public async Task<bool> SupersedeAsync(string id, CancellationToken cancellationToken)
    {
        var moved = await TryTransitionAsync(id, DeviceAuthorizationStatus.Superseded, new Conditions(),
            (setters, now) => setters.SetProperty(d => d.DecidedAt, now), cancellationToken);
        if (moved) await ReloadAsync(id, cancellationToken);
        return moved;
    }

    /// <summary>
    /// Approved → Redeemed, recording the linked device. Runs inside the caller's transaction, which also stores what
    /// is issued; the caller publishes the new state after commit with <see cref="ReloadAsync"/>. False when another
    /// poll redeemed the code first, or it expired.
    /// </summary>
    public Task<bool> TryRedeemAsync(string id, string linkedDeviceId, CancellationToken cancellationToken) =>
        TryTransitionAsync(id, DeviceAuthorizationStatus.Redeemed, new Conditions(),
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

    private delegate void SetAlso(UpdateSettersBuilder<DeviceAuthorization> setters, DateTimeOffset now);

    /// <summary>Extra conditions a transition needs: the claiming account, and the phone's confirm ticket.</summary>
    private readonly record struct Conditions(string? Subject = null, string? TicketHash = null);

    /// <summary>
    /// Moves the request to <paramref name="to"/> if, at the moment of the UPDATE, it is in one of the states that may
    /// lead there (<see cref="DeviceAuthorizationTransitions"/>), has not expired, and meets the
    /// <paramref name="conditions"/>. One statement, so of any number of concurrent callers exactly one wins.
    /// </summary>
    private async Task<bool> TryTransitionAsync(
        string id, DeviceAuthorizationStatus to, Conditions conditions, SetAlso also, CancellationToken cancellationToken)
    {
        var sources = DeviceAuthorizationTransitions.SourcesOf(to);
        var now = clock.GetUtcNow();
        var query = db.DeviceAuthorizations.Where(d => d.Id == id && sources.Contains(d.Status) && d.ExpiresAt > now);
        if (conditions.Subject is { } subject) query = query.Where(d => d.SubjectId == subject);
        if (conditions.TicketHash is { } ticketHash) query = query.Where(d => d.ConfirmTicketHash == ticketHash);

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

/// <summary>What the phone API presents to decide: its confirm ticket and its own device id.</summary>
public sealed record TicketProof(string Ticket, string PhoneDeviceId);

public enum DecisionOutcome
{
    Approved,
    Denied,

    /// <summary>Number matching failed: the request is now denied.</summary>
    WrongNumber,
    NotFound,

    /// <summary>Expired, superseded, or already decided.</summary>
    NotOpen,

    /// <summary>Claimed by another account (or not scanned by this one).</summary>
    NotYours,

    /// <summary>The confirm ticket is wrong, used, expired, or from another phone.</summary>
    WrongTicket,
}
