using System.Collections.Concurrent;

namespace AuthServer.DeviceFlow;

/// <summary>
/// The login requests this node has seen, keyed by device-code hash, with their polling bookkeeping.
/// A pending poll is answered from here: one hash and one dictionary lookup, no database round trip and no write
/// (the database stays the source of truth; every transition updates it first, then this cache).
/// </summary>
public sealed class LiveRequestCache
{
    private readonly ConcurrentDictionary<string, LiveRequest> _byDeviceCodeHash = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, LiveRequest> _byId = new(StringComparer.Ordinal);

    public LiveRequest? Find(string deviceCodeHash) => _byDeviceCodeHash.GetValueOrDefault(deviceCodeHash);

    public LiveRequest? FindById(string id) => _byId.GetValueOrDefault(id);

    /// <summary>The ids of every request held now, for a catch-up after missed cross-node events.</summary>
    public IReadOnlyCollection<string> Ids => [.. _byId.Keys];

    public LiveRequest Add(string deviceCodeHash, DeviceAuthorizationState state)
    {
        var live = _byDeviceCodeHash.GetOrAdd(deviceCodeHash, static (hash, s) => new LiveRequest(s) { DeviceCodeHash = hash }, state);
        _byId[state.Id] = live;
        return live;
    }

    /// <summary>Publishes a newer snapshot; older ones (by <see cref="DeviceAuthorizationState.Version"/>) are ignored.</summary>
    public void Update(DeviceAuthorizationState state)
    {
        if (_byId.TryGetValue(state.Id, out var live)) live.Publish(state);
    }

    /// <summary>
    /// Publishes a state the database holds (committed), from this node's transition or another node's: a redeemed
    /// request then leaves the cache.
    /// </summary>
    public void Apply(DeviceAuthorizationState state)
    {
        Update(state);
        if (state.Status == DeviceAuthorizationStatus.Redeemed) Forget(state.Id);
    }

    /// <summary>How many requests this node holds.</summary>
    public int Count => _byId.Count;

    /// <summary>
    /// Forgets a request at once. For redeemed ones: nothing more is polled for them (a replayed device code misses
    /// and reads its row once), and at a thousand logins a second keeping them until they expire would hold hundreds
    /// of thousands of finished requests in memory. Streams already open keep their own reference.
    /// </summary>
    public void Forget(string id)
    {
        if (_byId.TryRemove(id, out var live)) _byDeviceCodeHash.TryRemove(live.DeviceCodeHash, out _);
    }

    /// <summary>Forgets requests that ended a while ago; a late poll then reads the database once.</summary>
    public int Evict(DateTimeOffset olderThan)
    {
        var evicted = 0;
        foreach (var (hash, live) in _byDeviceCodeHash)
        {
            if (live.State.ExpiresAt >= olderThan) continue;
            _byDeviceCodeHash.TryRemove(hash, out _);
            _byId.TryRemove(live.State.Id, out _);
            evicted++;
        }
        return evicted;
    }
}

/// <summary>A cached login request and its polling state (RFC 8628 §3.5).</summary>
public sealed class LiveRequest(DeviceAuthorizationState state)
{
    /// <summary>
    /// Clients measure the interval from when they received the previous response, and a network adds jitter; a poll
    /// up to this much early is not treated as too fast, so well-behaved clients are never slowed down.
    /// </summary>
    public static readonly TimeSpan Jitter = TimeSpan.FromSeconds(1);

    /// <summary>RFC 8628 §3.5: each <c>slow_down</c> adds 5 seconds to the interval.</summary>
    public const int SlowDownIncrementSeconds = 5;

    /// <summary>Where the interval stops growing, so a client that ignores slow_down forever cannot overflow it.</summary>
    public const int MaxIntervalSeconds = 3600;

    /// <summary>The key it is cached under.</summary>
    public string DeviceCodeHash { get; init; } = "";

    private readonly Lock _gate = new();
    private DeviceAuthorizationState _state = state;
    private DateTimeOffset? _lastPoll;
    private int _intervalSeconds = state.IntervalSeconds;

    public DeviceAuthorizationState State => Volatile.Read(ref _state);

    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public void Publish(DeviceAuthorizationState state)
    {
        TaskCompletionSource? changed = null;
        lock (_gate)
        {
            if (state.Version < _state.Version) return;
            if (state.Version > _state.Version)
            {
                changed = _changed;
                _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            }
            Volatile.Write(ref _state, state);
        }
        // Waiting screens on the push stream wake up now, not at their next poll.
        changed?.TrySetResult();
    }

    /// <summary>Completes when a state newer than <paramref name="version"/> is published (at once if it already is).</summary>
    public Task WaitForChangeAsync(int version, CancellationToken cancellationToken)
    {
        Task changed;
        lock (_gate)
        {
            if (_state.Version > version) return Task.CompletedTask;
            changed = _changed.Task;
        }
        return changed.WaitAsync(cancellationToken);
    }

    /// <summary>
    /// Records a poll of a pending request and tells whether it came too soon after the previous one. A too-fast poll
    /// raises the interval by 5 seconds "for this and all subsequent requests" (RFC 8628 §3.5); the next poll is
    /// measured from this one, as the client measures it.
    /// </summary>
    public bool RecordPendingPoll(DateTimeOffset now)
    {
        lock (_gate) return RecordPoll(now);
    }

    /// <summary>
    /// <see cref="RecordPendingPoll"/> for a request that is still waiting for the user (pending or scanned) when the
    /// poll is recorded, or null without recording anything when it is not: a transition publishes under the same lock.
    /// </summary>
    public bool? RecordPollIfWaiting(DateTimeOffset now)
    {
        lock (_gate)
        {
            if (_state.Status is not (DeviceAuthorizationStatus.Pending or DeviceAuthorizationStatus.Scanned)) return null;
            return RecordPoll(now);
        }
    }

    private bool RecordPoll(DateTimeOffset now)
    {
        var tooFast = _lastPoll is { } last && now - last < TimeSpan.FromSeconds(_intervalSeconds) - Jitter;
        _lastPoll = now;
        // Capped so a client that ignores slow_down forever cannot overflow the counter.
        if (tooFast) _intervalSeconds = Math.Min(_intervalSeconds + SlowDownIncrementSeconds, MaxIntervalSeconds);
        return tooFast;
    }
}
