using System.Security.Cryptography;
using System.Text;
using System.Threading.RateLimiting;

namespace AuthServer.RateLimits;

/// <summary>
/// A fixed-window limit as a <see cref="PartitionedRateLimiter{TResource}"/> whose resource is the partition (an
/// account, a network, a client): each partition's window opens with its first event after the last window ended
/// and lasts <see cref="FixedWindowLimit.Window"/> on the server's <see cref="TimeProvider"/>; counts are kept in
/// <see cref="RateLimitCounters"/>, so the same limit is per node or cluster-wide by the counters it is given. A
/// refused lease carries <see cref="MetadataName.RetryAfter"/> (the rest of the window) and
/// <see cref="FirstRefusal"/>, true for exactly one refusal per partition and window, however many nodes refuse.
/// </summary>
public sealed class FixedWindowLimiter(string name, FixedWindowLimit limit, RateLimitCounters counters, TimeProvider clock)
    : PartitionedRateLimiter<string>
{
    /// <summary>Whether this refusal is the window's first for its partition: the one that is audited.</summary>
    public static readonly MetadataName<bool> FirstRefusal = MetadataName.Create<bool>("authserver.first_refusal");

    /// <summary>The limit's configuration name, as in <c>RateLimits:{Name}</c>.</summary>
    public string Name { get; } = name;

    public FixedWindowLimit Limit { get; } = limit;

    /// <summary>
    /// Gives back a permit <paramref name="lease"/> took, while its window lasts: for a budget that only some outcomes
    /// spend (a user-code lookup that found its code was not a guess that missed).
    /// </summary>
    public ValueTask GiveBackAsync(RateLimitLease lease, CancellationToken cancellationToken) =>
        lease is Lease { IsAcquired: true } taken ? counters.GiveBackAsync(taken.Key, taken.WindowStart, cancellationToken) : ValueTask.CompletedTask;

    public override RateLimiterStatistics? GetStatistics(string resource) => null;

    /// <summary>
    /// The synchronous form the base class requires; nothing here calls it (every caller awaits
    /// <see cref="RateLimiter.AcquireAsync"/>). On shared counters it blocks for the database's answer.
    /// </summary>
    protected override RateLimitLease AttemptAcquireCore(string resource, int permitCount) =>
        AcquireAsyncCore(resource, permitCount, CancellationToken.None).AsTask().GetAwaiter().GetResult();

    protected override async ValueTask<RateLimitLease> AcquireAsyncCore(string resource, int permitCount, CancellationToken cancellationToken)
    {
        Check(permitCount);
        var now = clock.GetUtcNow();
        var key = KeyOf(resource);
        return Decide(key, now, permitCount, await counters.AddAsync(key, now, Limit.Window, permitCount, cancellationToken));
    }

    private void Check(int permitCount)
    {
        if (permitCount > Limit.PermitLimit)
            throw new ArgumentOutOfRangeException(nameof(permitCount), permitCount, $"At most {Limit.PermitLimit} permits can be asked for at once.");
    }

    /// <summary>
    /// A count of at most the limit is a permit. Past it, the request is refused; the add that took the count past the
    /// limit is the window's first refusal. A request for no permits asks whether any are left (RateLimiter's contract).
    /// </summary>
    private Lease Decide(string key, DateTimeOffset now, int permitCount, CountedWindow window)
    {
        var count = window.Count;
        var granted = permitCount == 0 ? count < Limit.PermitLimit : count <= Limit.PermitLimit;
        var first = !granted && permitCount > 0 && count - permitCount <= Limit.PermitLimit;
        return new Lease(granted, key, window.Start, granted ? null : window.End - now, first, Name);
    }

    // The keys of recent partitions, so a busy partition (a client polling the token endpoint) allocates no key per
    // request; bounded, since networks and accounts are many.
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, string> _keys = new(StringComparer.Ordinal);

    /// <summary>Counter keys are bounded: a long partition (a client id) is counted under its SHA-256.</summary>
    private string KeyOf(string resource)
    {
        if (_keys.TryGetValue(resource, out var known)) return known;
        var key = Name + ":" + resource;
        if (key.Length > 200) key = Name + ":sha256:" + Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(resource)));
        if (_keys.Count < 1_000) _keys.TryAdd(resource, key);
        return key;
    }

    private sealed class Lease(bool acquired, string key, DateTimeOffset windowStart, TimeSpan? retryAfter, bool firstRefusal, string limit)
        : RateLimitLease
    {
        public string Key { get; } = key;
        public DateTimeOffset WindowStart { get; } = windowStart;

        public override bool IsAcquired { get; } = acquired;

        public override IEnumerable<string> MetadataNames =>
            IsAcquired ? [] : [MetadataName.RetryAfter.Name, MetadataName.ReasonPhrase.Name, FirstRefusal.Name];

        public override bool TryGetMetadata(string metadataName, out object? metadata)
        {
            metadata = null;
            if (IsAcquired) return false;
            if (metadataName == MetadataName.RetryAfter.Name) metadata = retryAfter;
            else if (metadataName == MetadataName.ReasonPhrase.Name) metadata = $"RateLimits:{limit}";
            else if (metadataName == FirstRefusal.Name) metadata = firstRefusal;
            return metadata is not null;
        }
    }
}
