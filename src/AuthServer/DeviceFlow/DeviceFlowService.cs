using AuthServer.Clients;
using AuthServer.Cluster;
using AuthServer.Data;
using AuthServer.Data.Entities;
using AuthServer.Hosting;
using Microsoft.EntityFrameworkCore;

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
/// callers resolve to exactly one winner, and then refreshes the node's cache with the row the UPDATE returned.
/// </summary>
public sealed class DeviceFlowService(
    IServiceProvider services, DeviceAuthorizationSql sql, LiveRequestCache cache, ClientStore clients, ClusterEvents events,
    TimeProvider clock, AuthServerMetrics metrics, ILogger<DeviceFlowService> logger)
{
    /// <summary>
    /// EF, for the rare paths only. Resolved on first use, so the common ones (and a push stream that stays open for
    /// minutes) do not hold a pooled context for their whole request.
    /// </summary>
    private AuthServerDbContext Db => services.GetRequiredService<AuthServerDbContext>();

    /// <summary>
    /// A login request to start, for the codes OpenIddict generated (RFC 8628 §3.1–3.2): <paramref name="Id"/> is the
    /// device code's token id, and only the device code's hash is stored.
    /// </summary>
    public sealed record NewRequest(
        string Id, string DeviceCode, string UserCode, Client Client, string Scope, string? DeviceName, string? Ip, string? UserAgent, string? DpopJkt);

    public async Task<DeviceAuthorizationState> CreateAsync(NewRequest request, CancellationToken cancellationToken)
    {
        using var span = AuthServerTraces.Source.StartActivity("login_request.create");
        span?.SetTag(AuthServerTraces.LoginRequestIdTag, request.Id).SetTag(AuthServerTraces.ClientIdTag, request.Client.ClientId);
        var now = clock.GetUtcNow();
        var entity = new DeviceAuthorization
        {
            Id = request.Id,
            DeviceCodeHash = OpaqueSecret.Hash(request.DeviceCode),
            UserCode = request.UserCode,
            ClientId = request.Client.ClientId,
            Scope = request.Scope,
            DeviceName = request.DeviceName,
            RequesterIp = request.Ip,
            RequesterUserAgent = request.UserAgent,
            CreatedAt = now,
            ExpiresAt = now + request.Client.DeviceCodeLifetime,
            IntervalSeconds = (int)request.Client.PollInterval.TotalSeconds,
            Status = DeviceAuthorizationStatus.Pending,
            DpopJkt = request.DpopJkt,
        };
        await sql.InsertAsync(entity, cancellationToken);
        var state = DeviceAuthorizationState.From(entity);
        cache.Add(entity.DeviceCodeHash, state);
        metrics.DeviceAuthorizationStarted();
        return state;
    }

    public Task<DeviceAuthorizationState?> FindByIdAsync(string id, CancellationToken cancellationToken) => sql.FindByIdAsync(id, cancellationToken);

    /// <summary>
    /// Approved → Redeemed, for the linked device the tokens go to. Of any number of concurrent polls exactly one wins;
    /// the others are told the code is used (or why else it cannot be redeemed).
    /// </summary>
    public async Task<DeviceAuthorizationState?> RedeemAsync(string id, string linkedDeviceId, CancellationToken cancellationToken)
    {
        using var span = AuthServerTraces.Source.StartActivity("login_request.redeem");
        span?.SetTag(AuthServerTraces.LoginRequestIdTag, id);
        var redeemed = await sql.RedeemAsync(id, linkedDeviceId, clock.GetUtcNow(), cancellationToken);
        if (redeemed is not null) await PublishAsync(redeemed);
        else await ReloadAsync(id, cancellationToken);
        span?.SetTag(AuthServerTraces.OutcomeTag, redeemed is null ? "not_approved" : "redeemed");
        return redeemed;
    }

    /// <summary>The request behind a device code: from this node's memory, or once from the database.</summary>
    public async Task<LiveRequest?> FindByDeviceCodeAsync(string deviceCode, CancellationToken cancellationToken)
    {
        var hash = OpaqueSecret.Hash(deviceCode);
        if (cache.Find(hash) is { } live) return live;

        var found = await sql.FindByDeviceCodeHashAsync(hash, cancellationToken);
        if (found is null) return null;
        // A finished request can no longer change: answer from the row, and keep memory for requests still in play
        // (a replayed redeemed code would otherwise come back into the cache it just left).
        if (DeviceAuthorizationTransitions.IsFinal(found.Status)) return new LiveRequest(found) { DeviceCodeHash = hash };

        var added = cache.Add(hash, found);
        // A transition that committed between the read above and the Add found nothing cached to update; read once
        // more so the cache cannot keep a stale snapshot. Misses are rare (first poll after a restart), so this is cheap.
        await ReloadAsync(found.Id, cancellationToken);
        return added;
    }

    public Task<DeviceAuthorizationState?> FindByUserCodeAsync(string normalizedUserCode, CancellationToken cancellationToken) =>
        sql.FindByUserCodeAsync(normalizedUserCode, cancellationToken);

    /// <summary>
    /// The account has the request in front of it (scanned the QR code or typed the code): Pending → Scanned, claimed by
    /// this account. The first account wins; a second scan by the same account keeps its claim. For number-matching
    /// clients the scan also draws the number the waiting screen will show.
    /// <para>
    /// The phone API passes its own device id (<paramref name="phoneDeviceId"/>): the same statement then gives it a
    /// one-time confirm ticket bound to the account and that phone. A new ticket replaces the previous one, so only
    /// the latest scan can decide.
    /// </para>
    /// </summary>
    public async Task<ScanResult> ScanAsync(
        DeviceAuthorizationState request, string userId, string? phoneDeviceId, CancellationToken cancellationToken)
    {
        using var span = AuthServerTraces.Source.StartActivity("login_request.scan");
        span?.SetTag(AuthServerTraces.LoginRequestIdTag, request.Id).SetTag(AuthServerTraces.ClientIdTag, request.ClientId);
        var result = await ClaimAsync(request, userId, phoneDeviceId, cancellationToken);
        metrics.Scanned(phone: phoneDeviceId is not null, result.Outcome);
        span?.SetTag(AuthServerTraces.OutcomeTag, result.Outcome.ToString());
        return result;
    }

    private async Task<ScanResult> ClaimAsync(
        DeviceAuthorizationState request, string userId, string? phoneDeviceId, CancellationToken cancellationToken)
    {
        var matchNumber = clients.Find(request.ClientId)?.NumberMatching == true ? NumberMatching.NewNumber() : (int?)null;
        var now = clock.GetUtcNow();
        string? ticket = null;
        DeviceAuthorizationSql.Ticket? stored = null;
        if (phoneDeviceId is not null)
        {
            ticket = OpaqueSecret.New();
            // The ticket ends with its scan's two minutes, or with the request, whichever comes first.
            var expiresAt = now + ConfirmTicketLifetime < request.ExpiresAt ? now + ConfirmTicketLifetime : request.ExpiresAt;
            stored = new DeviceAuthorizationSql.Ticket(OpaqueSecret.Hash(ticket), expiresAt, phoneDeviceId);
        }

        var claimed = await sql.ClaimAsync(request.Id, userId, matchNumber, stored, now, cancellationToken);
        if (claimed is not null)
        {
            await PublishAsync(claimed);
            return new ScanResult(ScanOutcome.Claimed, claimed, ticket, stored?.ExpiresAt);
        }

        // Nothing moved: the stored row tells whether another account holds the claim or the request is closed.
        var state = await ReloadAsync(request.Id, cancellationToken);
        if (state is null || !state.IsOpen(clock.GetUtcNow())) return new ScanResult(ScanOutcome.NotOpen, state);
        return new ScanResult(state.SubjectId == userId ? ScanOutcome.Claimed : ScanOutcome.ClaimedByAnotherAccount, state);
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
        using var span = AuthServerTraces.Source.StartActivity("login_request.decide");
        span?.SetTag(AuthServerTraces.LoginRequestIdTag, id);
        var result = await DecideOnceAsync(id, userId, approve, number, ticket, cancellationToken);
        metrics.Decided(phone: ticket is not null, result.Outcome);
        span?.SetTag(AuthServerTraces.OutcomeTag, result.Outcome.ToString());
        return result;
    }

    private async Task<(DecisionOutcome Outcome, DeviceAuthorizationState? State)> DecideOnceAsync(
        string id, string userId, bool approve, int? number, TicketProof? ticket, CancellationToken cancellationToken)
    {
        // One statement checks the claim, the ticket and the number, decides, and spends the ticket (single-use,
        // whatever the decision). Only when it moves nothing is the row read, to say why.
        var ticketHash = ticket is null ? null : OpaqueSecret.Hash(ticket.Ticket);
        var decided = await sql.DecideAsync(id, userId, approve, number, ticketHash, ticket?.PhoneDeviceId, clock.GetUtcNow(), cancellationToken);
        if (decided is not null)
        {
            // Not published yet: the caller hands the decision to OpenIddict first (Endpoints.Verification), so a
            // waiting screen that hears "approved" finds its device code approved at the token endpoint too.
            var wrongNumber = approve && decided.Status == DeviceAuthorizationStatus.Denied;
            return (wrongNumber ? DecisionOutcome.WrongNumber : approve ? DecisionOutcome.Approved : DecisionOutcome.Denied, decided);
        }
        return await RefusalAsync(id, userId, ticket, ticketHash, cancellationToken);
    }

    /// <summary>Why a decision moved nothing, in the order the phone should hear it.</summary>
    private async Task<(DecisionOutcome Outcome, DeviceAuthorizationState? State)> RefusalAsync(
        string id, string userId, TicketProof? ticket, string? ticketHash, CancellationToken cancellationToken)
    {
        var entity = await Db.DeviceAuthorizations.AsNoTracking().FirstOrDefaultAsync(d => d.Id == id, cancellationToken);
        if (entity is null) return (DecisionOutcome.NotFound, null);
        var state = DeviceAuthorizationState.From(entity);
        cache.Update(state);
        var now = clock.GetUtcNow();
        if (entity.SubjectId is not null && entity.SubjectId != userId) return (DecisionOutcome.NotYours, state);

        // A ticket that is not this scan's current one (wrong, used, from another phone) is refused as such, before
        // anything is said about the request; an expired request is then "gone" even with a once-valid ticket.
        if (ticket is not null)
        {
            var matches = entity.ConfirmTicketHash is { } stored
                && OpaqueSecret.FixedTimeEquals(stored, ticketHash!)
                && entity.ConfirmTicketDeviceId == ticket.PhoneDeviceId;
            if (!matches) return (DecisionOutcome.WrongTicket, state);
        }
        if (!state.IsOpen(now)) return (DecisionOutcome.NotOpen, state);
        if (entity.SubjectId != userId) return (DecisionOutcome.NotYours, state);
        if (ticket is not null && !(entity.ConfirmTicketExpiresAt > now)) return (DecisionOutcome.WrongTicket, state);
        // Everything checks out now, so the statement lost a race (another decision, or a newer ticket) in between.
        return (ticket is not null ? DecisionOutcome.WrongTicket : DecisionOutcome.NotOpen, state);
    }

    /// <summary>Pending/Scanned → Superseded: the waiting screen replaced its QR code with a fresh request.</summary>
    public async Task<bool> SupersedeAsync(string id, CancellationToken cancellationToken)
    {
        if (await sql.SupersedeAsync(id, clock.GetUtcNow(), cancellationToken) is not { } superseded) return false;
        await PublishAsync(superseded);
        return true;
    }

    /// <summary>
    /// Hands a state the database now holds (committed) to this node's cache, which wakes its waiting screens, then to
    /// the other nodes (ids and version only), whose screens may be streaming from them.
    /// </summary>
    public async ValueTask PublishAsync(DeviceAuthorizationState state)
    {
        cache.Apply(state);
        logger.LogInformation("Login request {Id} is now {Status}", state.Id, state.Status);
        await events.PublishAsync(ClusterEvent.LoginRequestChanged(state.Id, state.Version));
    }

    /// <summary>Reads the request from the database and publishes it to this node's cache.</summary>
    public async Task<DeviceAuthorizationState?> ReloadAsync(string id, CancellationToken cancellationToken)
    {
        var state = await sql.FindByIdAsync(id, cancellationToken);
        if (state is not null) cache.Update(state);
        return state;
    }
}

/// <summary>What the phone API presents to decide: its confirm ticket and its own device id.</summary>
public sealed record TicketProof(string Ticket, string PhoneDeviceId);

/// <summary>A scan's outcome, the request as it now is, and for the phone API its confirm ticket.</summary>
public sealed record ScanResult(ScanOutcome Outcome, DeviceAuthorizationState? State, string? Ticket = null, DateTimeOffset? TicketExpiresAt = null);

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
