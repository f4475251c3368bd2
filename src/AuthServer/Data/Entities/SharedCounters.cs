namespace AuthServer.Data.Entities;

/// <summary>
/// One partition's fixed-window count of a limit that every node shares (<see cref="RateLimits.PostgreSqlRateLimitCounters"/>),
/// e.g. <c>UserCodeLookupsPerNetwork:203.0.113.0/24</c>. Only used on PostgreSQL; a single SQLite process counts in memory.
/// </summary>
public sealed class RateLimitCounter
{
    public required string Key { get; set; }

    public DateTimeOffset WindowStart { get; set; }

    /// <summary>When the window ends; the cleanup job deletes the row after that.</summary>
    public DateTimeOffset ExpiresAt { get; set; }

    public long Count { get; set; }
}

/// <summary>
/// A DPoP proof id seen by some node (<see cref="Tokens.SharedDpopReplayStore"/>), kept until its proof's <c>iat</c>
/// check would fail anyway. Only used on PostgreSQL.
/// </summary>
public sealed class DpopProofUse
{
    /// <summary>The RFC 7638 thumbprint of the proof's key.</summary>
    public required string Jkt { get; set; }

    public required string Jti { get; set; }

    public DateTimeOffset ExpiresAt { get; set; }
}
