namespace AuthServer.DeviceFlow;

/// <summary>What a poll of a pending (or scanned) request found.</summary>
public enum PendingPoll
{
    /// <summary>Still pending, and the screen kept its interval: <c>authorization_pending</c>.</summary>
    Pending,

    /// <summary>Still pending, but too soon after the previous poll: <c>slow_down</c> (RFC 8628 §3.5).</summary>
    TooFast,

    /// <summary>No longer pending: another node decided it meanwhile. The request's state says what happened.</summary>
    Moved,
}

/// <summary>
/// Where the polling bookkeeping of RFC 8628 §3.5 (the last poll, the interval raised by <c>slow_down</c>) is kept:
/// in this node's memory on SQLite, in the database row on PostgreSQL, where a screen's polls may reach any node.
/// </summary>
public abstract class PendingPolls
{
    /// <summary>Records a poll of <paramref name="live"/>, which this node holds as pending or scanned.</summary>
    public abstract ValueTask<PendingPoll> RecordAsync(LiveRequest live, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>
    /// <see cref="RecordAsync"/> for a caller that has not locked anything (the pending-poll shortcut): a request that is
    /// no longer waiting for the user by the time the poll is recorded is <see cref="PendingPoll.Moved"/>, unrecorded.
    /// </summary>
    public virtual ValueTask<PendingPoll> RecordIfWaitingAsync(LiveRequest live, DateTimeOffset now, CancellationToken cancellationToken) =>
        RecordAsync(live, now, cancellationToken);

    /// <summary>
    /// Before a poll of a request this node holds as approved goes on to OpenIddict: makes sure no other node has
    /// redeemed it meanwhile, since OpenIddict treats a second redemption of a device code as a replay.
    /// </summary>
    public abstract ValueTask ConfirmApprovedAsync(LiveRequest live, CancellationToken cancellationToken);
}

/// <summary>
/// One node (SQLite): the bookkeeping in memory, so a pending poll reads and writes nothing and completes without
/// awaiting anything.
/// </summary>
public sealed class InMemoryPendingPolls : PendingPolls
{
    public override ValueTask<PendingPoll> RecordAsync(LiveRequest live, DateTimeOffset now, CancellationToken cancellationToken) =>
        ValueTask.FromResult(live.RecordPendingPoll(now) ? PendingPoll.TooFast : PendingPoll.Pending);

    public override ValueTask<PendingPoll> RecordIfWaitingAsync(LiveRequest live, DateTimeOffset now, CancellationToken cancellationToken) =>
        ValueTask.FromResult(live.RecordPollIfWaiting(now) switch
        {
            true => PendingPoll.TooFast,
            false => PendingPoll.Pending,
            null => PendingPoll.Moved,
        });

    /// <summary>This node made every transition, so what it holds is what the database holds.</summary>
    public override ValueTask ConfirmApprovedAsync(LiveRequest live, CancellationToken cancellationToken) => ValueTask.CompletedTask;
}

/// <summary>
/// Several nodes (PostgreSQL): one atomic statement per pending poll (<see cref="DeviceAuthorizationSql.PollAsync"/>),
/// so two nodes cannot both let a too-fast poll through and the interval a screen was told is the one every node
/// enforces. The row it returns also refreshes this node's copy, so a poll can never answer from a stale status.
/// </summary>
public sealed class DatabasePendingPolls(DeviceAuthorizationSql sql, LiveRequestCache cache) : PendingPolls
{
    public override async ValueTask<PendingPoll> RecordAsync(LiveRequest live, DateTimeOffset now, CancellationToken cancellationToken)
    {
        if (await sql.PollAsync(live.State.Id, now, cancellationToken) is { } poll)
        {
            live.Publish(poll.State);
            return poll.TooFast ? PendingPoll.TooFast : PendingPoll.Pending;
        }
        await ReloadAsync(live, cancellationToken);
        return PendingPoll.Moved;
    }

    /// <summary>One primary-key read, once per login: only the polls that find a request approved pay it.</summary>
    public override async ValueTask ConfirmApprovedAsync(LiveRequest live, CancellationToken cancellationToken) =>
        await ReloadAsync(live, cancellationToken);

    private async Task ReloadAsync(LiveRequest live, CancellationToken cancellationToken)
    {
        if (await sql.FindByIdAsync(live.State.Id, cancellationToken) is not { } state) return;
        live.Publish(state);
        cache.Apply(state);
    }
}
