using System.Collections.Concurrent;
using Microsoft.Extensions.Options;

namespace AuthServer.Dpop;

/// <summary>
/// The ids of the DPoP proofs seen (RFC 9449 §11.1), each kept until its proof could no longer pass the <c>iat</c>
/// check, and never more than <see cref="DpopOptions.ReplayCacheSize"/> of them. In memory, per process: with several
/// instances, a proof replayed against another one within its window is not caught; such a host registers an
/// <see cref="IDpopReplayStore"/> the instances share.
/// </summary>
public sealed class DpopReplayCache(IOptions<DpopOptions> options) : IDpopReplayStore
{
    public enum Outcome
    {
        /// <summary>Not seen before; remembered now.</summary>
        New,

        /// <summary>Seen before, and the earlier use could still be live: refuse it.</summary>
        Replayed,

        /// <summary>The cache is full of entries that are all still live: refuse it, since it cannot be remembered.</summary>
        Full,
    }

    private readonly ConcurrentDictionary<string, DateTimeOffset> _seen = new(StringComparer.Ordinal);
    private readonly Lock _sweep = new();

    // A counter of our own: ConcurrentDictionary.Count takes every lock of the dictionary, and this runs on every proof.
    private int _count;

    // The earliest expiry of any entry, in UTC ticks: while the clock is before it, a sweep cannot free anything, so a
    // cache full of live entries refuses at once instead of walking every entry on every proof.
    private long _earliestExpiry = long.MaxValue;

    /// <summary>How many proof ids are held now.</summary>
    public int Count => Volatile.Read(ref _count);

    /// <summary>
    /// Records the use of <paramref name="key"/> (the proof key's thumbprint and the proof's <c>jti</c>), to be kept
    /// until <paramref name="keepUntil"/>. An entry whose time has passed is stale: its proof could not pass the
    /// <c>iat</c> check any more, so the key may be used again.
    /// </summary>
    public Outcome TryUse(string key, DateTimeOffset keepUntil, DateTimeOffset now)
    {
        var capacity = options.Value.ReplayCacheSize;
        while (true)
        {
            if (_seen.TryGetValue(key, out var until))
            {
                if (until >= now) return Outcome.Replayed;
                if (_seen.TryUpdate(key, keepUntil, until))
                {
                    LowerEarliestExpiry(keepUntil);
                    return Outcome.New;
                }
                continue;
            }

            // A place is reserved before the entry is added, so concurrent proofs can never take the cache past its bound.
            if (!TryReserve(capacity))
            {
                Sweep(now);
                if (!TryReserve(capacity)) return Outcome.Full;
            }
            if (_seen.TryAdd(key, keepUntil))
            {
                LowerEarliestExpiry(keepUntil);
                return Outcome.New;
            }
            // The same key was added meanwhile: give the place back and judge it as a use of that entry.
            Interlocked.Decrement(ref _count);
        }
    }

    public ValueTask<Outcome> TryUseAsync(string jkt, string jti, DateTimeOffset keepUntil, DateTimeOffset now, CancellationToken cancellationToken) =>
        ValueTask.FromResult(TryUse(jkt + ":" + jti, keepUntil, now));

    /// <summary>Nothing to do: an entry past its time is replaced when its place is needed (<see cref="TryUse"/>).</summary>
    public ValueTask<int> PruneAsync(DateTimeOffset now, CancellationToken cancellationToken) => ValueTask.FromResult(0);

    private bool TryReserve(int capacity)
    {
        if (Interlocked.Increment(ref _count) <= capacity) return true;
        Interlocked.Decrement(ref _count);
        return false;
    }

    /// <summary>Drops the stale entries; does nothing while no entry can be stale yet.</summary>
    private void Sweep(DateTimeOffset now)
    {
        if (now.UtcTicks <= Interlocked.Read(ref _earliestExpiry)) return;
        lock (_sweep)
        {
            if (now.UtcTicks <= Interlocked.Read(ref _earliestExpiry)) return;
            // Entries added while this runs lower the earliest expiry themselves.
            Interlocked.Exchange(ref _earliestExpiry, long.MaxValue);
            foreach (var (key, until) in _seen)
            {
                // Removes the entry only as seen here: one renewed meanwhile stays.
                if (until < now && _seen.TryRemove(new KeyValuePair<string, DateTimeOffset>(key, until)))
                    Interlocked.Decrement(ref _count);
                else
                    LowerEarliestExpiry(until);
            }
        }
    }

    private void LowerEarliestExpiry(DateTimeOffset until)
    {
        var ticks = until.UtcTicks;
        var current = Interlocked.Read(ref _earliestExpiry);
        while (ticks < current)
        {
            var seen = Interlocked.CompareExchange(ref _earliestExpiry, ticks, current);
            if (seen == current) return;
            current = seen;
        }
    }
}
