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
}

/// <summary>
/// One node (SQLite): the bookkeeping in memory, so a pending poll reads and writes nothing and completes without
/// awaiting anything.
/// </summary>
public sealed class InMemoryPendingPolls : PendingPolls
{
    public override ValueTask<PendingPoll> RecordAsync(LiveRequest live, DateTimeOffset now, CancellationToken cancellationToken) =>
        ValueTask.FromResult(live.RecordPendingPoll(now) ? PendingPoll.TooFast : PendingPoll.Pending);
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
        if (await sql.FindByIdAsync(live.State.Id, cancellationToken) is { } state)
        {
            live.Publish(state);
            cache.Apply(state);
        }
        return PendingPoll.Moved;
    }
}
