using System.Collections.Concurrent;
using System.Globalization;
using AuthServer.Data;
using AuthServer.Hosting;
using Microsoft.Extensions.Options;

namespace AuthServer.DeviceFlow;

/// <summary>
/// RFC 8628 §5.1: user codes carry about 34.5 bits, which is only enough when guesses are limited. Every lookup of a
/// user code (the verification page, a phone scan) counts against the client IP and, when someone
/// is signed in, against the account, unknown codes included. Fixed one-minute windows, on the server's clock.
/// </summary>
public sealed class GuessLimiter(TimeProvider clock, IOptions<AuthServerOptions> options, AuthServerMetrics metrics)
{
    public static readonly TimeSpan Window = TimeSpan.FromMinutes(1);

    private readonly ConcurrentDictionary<string, Counter> _counters = new(StringComparer.Ordinal);

    private sealed class Counter
    {
        public DateTimeOffset Start;
        public int Count;

        /// <summary>Whether this window's first refusal was audited: a guesser is logged once a minute, not per guess.</summary>
        public bool Audited;
    }

    /// <summary>
    /// Counts one lookup; null when allowed, otherwise how long until the next one is. The first refusal of each
    /// address's or account's window is audited: the only write, and at most one a minute per guesser.
    /// </summary>
    public async Task<TimeSpan?> TryAcquireAsync(HttpContext context, string? userId)
    {
        var (retryAfter, firstRefusal) = Acquire(context, userId);
        if (retryAfter is not null) metrics.UserCodeLookupRefused();
        if (firstRefusal)
            await Audit.WriteAsync(context.RequestServices.GetRequiredService<AuthServerDbContext>(), Audit.UserCodeRateLimited, clock.GetUtcNow(),
                userId, null, $"More than {options.Value.UserCodeLookupsPerMinute} user-code lookups in a minute from {AddressOf(context)}; refused until the window ends.",
                context.RequestAborted);
        return retryAfter;
    }

    private (TimeSpan? RetryAfter, bool FirstRefusal) Acquire(HttpContext context, string? userId)
    {
        var now = clock.GetUtcNow();
        var limit = options.Value.UserCodeLookupsPerMinute;
        var byIp = Take("ip:" + AddressOf(context), now, limit);
        var byAccount = userId is null ? default : Take("account:" + userId, now, limit);
        var retryAfter = (byIp.RetryAfter, byAccount.RetryAfter) switch
        {
            (null, null) => null,
            ({ } a, { } b) => a > b ? a : b,
            _ => byIp.RetryAfter ?? byAccount.RetryAfter,
        };
        return (retryAfter, byIp.FirstRefusal || byAccount.FirstRefusal);
    }

    private static string AddressOf(HttpContext context) => context.Connection.RemoteIpAddress?.ToString() ?? "unknown";

    /// <summary>Forgets windows that have ended, so the table does not grow with every address ever seen.</summary>
    public void Sweep()
    {
        var now = clock.GetUtcNow();
        foreach (var (key, counter) in _counters)
        {
            lock (counter)
            {
                if (now - counter.Start >= Window) _counters.TryRemove(key, out _);
            }
        }
    }

    /// <summary>RFC 6585 §4: 429 with <c>Retry-After</c> in whole seconds.</summary>
    public static void SetRetryAfter(HttpResponse response, TimeSpan retryAfter)
    {
        response.StatusCode = StatusCodes.Status429TooManyRequests;
        response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
    }

    private (TimeSpan? RetryAfter, bool FirstRefusal) Take(string key, DateTimeOffset now, int limit)
    {
        var counter = _counters.GetOrAdd(key, static (_, start) => new Counter { Start = start }, now);
        lock (counter)
        {
            if (now - counter.Start >= Window)
            {
                counter.Start = now;
                counter.Count = 0;
                counter.Audited = false;
            }
            if (counter.Count >= limit)
            {
                var first = !counter.Audited;
                counter.Audited = true;
                return (counter.Start + Window - now, first);
            }
            counter.Count++;
            return (null, false);
        }
    }
}
