using System.ComponentModel.DataAnnotations;

namespace AuthServer.RateLimits;

/// <summary>
/// One fixed-window limit: at most <see cref="PermitLimit"/> counted events per partition in each window. A partition's
/// window opens with its first event after the previous window ended, so windows never overlap.
/// </summary>
public sealed class FixedWindowLimit
{
    [Range(1, 100_000_000)]
    public int PermitLimit { get; set; }

    public TimeSpan Window { get; set; }

    public static FixedWindowLimit Of(int permitLimit, TimeSpan window) => new() { PermitLimit = permitLimit, Window = window };

    public override string ToString() => $"{PermitLimit} per {Window}";
}

/// <summary>
/// The <c>RateLimits</c> configuration section (docs/operations.md, docs/security.md). The defaults are what
/// docs/security.md computes the RFC 8628 §5.1 guessing bound from: change the user-code limits and the bound changes.
/// </summary>
public sealed class RateLimitOptions
{
    public const string Section = "RateLimits";

    /// <summary>User-code lookups (verification page, phone scans) per signed-in account.</summary>
    public FixedWindowLimit UserCodeLookupsPerAccount { get; set; } = FixedWindowLimit.Of(10, TimeSpan.FromMinutes(1));

    /// <summary>User-code lookups per client network: a /24 for IPv4, a /64 for IPv6.</summary>
    public FixedWindowLimit UserCodeLookupsPerNetwork { get; set; } = FixedWindowLimit.Of(30, TimeSpan.FromMinutes(1));

    /// <summary>
    /// Lookups of codes that match no login request, for the whole server (every node together): the budget that bounds
    /// a guesser who has many accounts and networks (RFC 8628 §5.1).
    /// </summary>
    public FixedWindowLimit UnknownUserCodes { get; set; } = FixedWindowLimit.Of(2, TimeSpan.FromMinutes(5));

    /// <summary>Device authorization requests (RFC 8628 §3.1) per client.</summary>
    public FixedWindowLimit DeviceAuthorizationsPerClient { get; set; } = FixedWindowLimit.Of(6_000, TimeSpan.FromMinutes(1));

    /// <summary>Device authorization requests per client network.</summary>
    public FixedWindowLimit DeviceAuthorizationsPerNetwork { get; set; } = FixedWindowLimit.Of(60, TimeSpan.FromMinutes(1));

    /// <summary>Token requests per client, on each node (the pending poll is answered from memory, with no database).</summary>
    public FixedWindowLimit TokenRequestsPerClient { get; set; } = FixedWindowLimit.Of(60_000, TimeSpan.FromMinutes(1));

    public IEnumerable<(string Name, FixedWindowLimit Limit)> All() =>
    [
        (nameof(UserCodeLookupsPerAccount), UserCodeLookupsPerAccount),
        (nameof(UserCodeLookupsPerNetwork), UserCodeLookupsPerNetwork),
        (nameof(UnknownUserCodes), UnknownUserCodes),
        (nameof(DeviceAuthorizationsPerClient), DeviceAuthorizationsPerClient),
        (nameof(DeviceAuthorizationsPerNetwork), DeviceAuthorizationsPerNetwork),
        (nameof(TokenRequestsPerClient), TokenRequestsPerClient),
    ];

    /// <summary>Whole seconds from one second to a day: Retry-After is in seconds (RFC 9110 §10.2.3).</summary>
    public bool IsValid(out string problem)
    {
        foreach (var (name, limit) in All())
        {
            if (limit.PermitLimit < 1 || limit.PermitLimit > 100_000_000)
            {
                problem = $"RateLimits:{name}:PermitLimit must be between 1 and 100000000.";
                return false;
            }
            if (limit.Window < TimeSpan.FromSeconds(1) || limit.Window > TimeSpan.FromDays(1) || limit.Window.Ticks % TimeSpan.TicksPerSecond != 0)
            {
                problem = $"RateLimits:{name}:Window must be between 1 second and 1 day, in whole seconds.";
                return false;
            }
        }
        problem = "";
        return true;
    }
}
