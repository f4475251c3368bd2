namespace AuthServer.Dpop;

/// <summary>
/// Remembers DPoP proof ids against replay (RFC 9449 §11.1). The default is <see cref="DpopReplayCache"/>, in this
/// process; a host that runs on several nodes registers a store they share, so a proof used on one node is refused on
/// every other.
/// </summary>
public interface IDpopReplayStore
{
    /// <summary>
    /// Records the use of the proof <paramref name="jti"/> made with the key whose thumbprint is <paramref name="jkt"/>,
    /// to be kept until <paramref name="keepUntil"/>, and says whether it was new.
    /// </summary>
    ValueTask<DpopReplayCache.Outcome> TryUseAsync(string jkt, string jti, DateTimeOffset keepUntil, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>Forgets the proof ids kept until before <paramref name="now"/>; returns how many. Run by the host's cleanup.</summary>
    ValueTask<int> PruneAsync(DateTimeOffset now, CancellationToken cancellationToken);
}
