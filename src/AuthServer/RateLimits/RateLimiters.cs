using System.Globalization;
using System.Threading.RateLimiting;
using AuthServer.Data;
using AuthServer.Hosting;
using Microsoft.Extensions.Options;

namespace AuthServer.RateLimits;

/// <summary>A request a limit refused: which limit, and when the caller may try again (RFC 6585 §4).</summary>
public sealed record RateLimitRefusal(string Limit, TimeSpan RetryAfter)
{
    /// <summary>Whole seconds, at least one, as <c>Retry-After</c> takes them (RFC 9110 §10.2.3).</summary>
    public string RetryAfterSeconds => Math.Max(1, (int)Math.Ceiling(RetryAfter.TotalSeconds)).ToString(CultureInfo.InvariantCulture);

    /// <summary>429 with <c>Retry-After</c>; the caller writes the body in its endpoint's format.</summary>
    public void Apply(HttpResponse response)
    {
        response.StatusCode = StatusCodes.Status429TooManyRequests;
        response.Headers.RetryAfter = RetryAfterSeconds;
    }
}

/// <summary>
/// Every limit of <see cref="RateLimitOptions"/> as a <see cref="FixedWindowLimiter"/>. The user-code and device
/// authorization limits count in <see cref="RateLimitCounters"/> the database shares on PostgreSQL, so they hold for
/// the whole cluster; the token endpoint's counts stay on each node, since a pending poll is answered from memory and
/// must not wait for a database write.
/// </summary>
public sealed class RateLimiters
{
    private readonly TimeProvider _clock;

    public RateLimiters(IOptions<RateLimitOptions> options, RateLimitCounters shared, TimeProvider clock)
    {
        _clock = clock;
        var o = options.Value;
        UserCodeLookupsPerAccount = new(nameof(o.UserCodeLookupsPerAccount), o.UserCodeLookupsPerAccount, shared, clock);
        UserCodeLookupsPerNetwork = new(nameof(o.UserCodeLookupsPerNetwork), o.UserCodeLookupsPerNetwork, shared, clock);
        UnknownUserCodes = new(nameof(o.UnknownUserCodes), o.UnknownUserCodes, shared, clock);
        DeviceAuthorizationsPerClient = new(nameof(o.DeviceAuthorizationsPerClient), o.DeviceAuthorizationsPerClient, shared, clock);
        DeviceAuthorizationsPerNetwork = new(nameof(o.DeviceAuthorizationsPerNetwork), o.DeviceAuthorizationsPerNetwork, shared, clock);
        TokenRequestsPerClient = new(nameof(o.TokenRequestsPerClient), o.TokenRequestsPerClient, PerNode, clock);
        Shared = shared;
    }

    /// <summary>Counts that must hold for every node together.</summary>
    public RateLimitCounters Shared { get; }

    /// <summary>Counts of this node only.</summary>
    public MemoryRateLimitCounters PerNode { get; } = new();

    public FixedWindowLimiter UserCodeLookupsPerAccount { get; }
    public FixedWindowLimiter UserCodeLookupsPerNetwork { get; }
    public FixedWindowLimiter UnknownUserCodes { get; }
    public FixedWindowLimiter DeviceAuthorizationsPerClient { get; }
    public FixedWindowLimiter DeviceAuthorizationsPerNetwork { get; }
    public FixedWindowLimiter TokenRequestsPerClient { get; }

    /// <summary>
    /// Takes a permit of <paramref name="limiter"/> for <paramref name="partition"/>. Null with the lease when allowed;
    /// otherwise the refusal, after auditing it if it is the window's first for this partition, so a caller that
    /// keeps trying is logged once a window, not once a request.
    /// </summary>
    public async Task<(RateLimitRefusal? Refusal, RateLimitLease Lease)> TakeAsync(
        FixedWindowLimiter limiter, string partition, HttpContext http, Audited audited, CancellationToken cancellationToken)
    {
        var lease = await limiter.AcquireAsync(partition, 1, cancellationToken);
        if (lease.IsAcquired) return (null, lease);
        var retryAfter = lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? wait : limiter.Limit.Window;
        if (lease.TryGetMetadata(FixedWindowLimiter.FirstRefusal, out var first) && first)
        {
            var db = http.RequestServices.GetRequiredService<AuthServerDbContext>();
            await Audit.WriteAsync(db, audited.Type, _clock.GetUtcNow(), audited.UserId, audited.ClientId,
                $"More than {limiter.Limit.PermitLimit} {audited.What} in {Describe(limiter.Limit.Window)} {audited.From}: refused until the window ends (RateLimits:{limiter.Name}).",
                cancellationToken);
        }
        return (new RateLimitRefusal(limiter.Name, retryAfter), lease);
    }

    /// <summary>What an audit event says about the refused caller.</summary>
    public sealed record Audited(string Type, string What, string From, string? UserId = null, string? ClientId = null);

    /// <summary>Forgets ended windows, in this process and in the shared table.</summary>
    public async Task<int> PruneAsync(CancellationToken cancellationToken)
    {
        var now = _clock.GetUtcNow();
        var pruned = await PerNode.PruneAsync(now, cancellationToken);
        if (!ReferenceEquals(Shared, PerNode)) pruned += await Shared.PruneAsync(now, cancellationToken);
        return pruned;
    }

    private static string Describe(TimeSpan window) => window.TotalSeconds switch
    {
        60 => "a minute",
        < 60 => $"{window.TotalSeconds:0} seconds",
        _ when window.Ticks % TimeSpan.TicksPerMinute == 0 => $"{window.TotalMinutes:0} minutes",
        _ => $"{window.TotalSeconds:0} seconds",
    };
}
