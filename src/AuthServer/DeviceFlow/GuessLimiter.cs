using System.Collections.Concurrent;
using System.Globalization;
using AuthServer.Hosting;
using Microsoft.Extensions.Options;

namespace AuthServer.DeviceFlow;

/// <summary>
/// RFC 8628 §5.1: user codes carry about 34.5 bits, which is only enough when guesses are limited. Every lookup of a
/// user code (the verification page, a phone scan) counts against the client IP and, when someone
/// is signed in, against the account, unknown codes included. Fixed one-minute windows, on the server's clock.
/// </summary>
public sealed class GuessLimiter(TimeProvider clock, IOptions<AuthServerOptions> options)
{
    public static readonly TimeSpan Window = TimeSpan.FromMinutes(1);

    private readonly ConcurrentDictionary<string, Counter> _counters = new(StringComparer.Ordinal);

    private sealed class Counter
    {
        public DateTimeOffset Start;
        public int Count;
    }

    /// <summary>Counts one lookup; null when allowed, otherwise how long until the next one is.</summary>
    public TimeSpan? TryAcquire(HttpContext context, string? userId)
    {
        var now = clock.GetUtcNow();
        var limit = options.Value.UserCodeLookupsPerMinute;
        var byIp = Take("ip:" + (context.Connection.RemoteIpAddress?.ToString() ?? "unknown"), now, limit);
        var byAccount = userId is null ? null : Take("account:" + userId, now, limit);
        return (byIp, byAccount) switch
        {
            (null, null) => null,
            ({ } a, { } b) => a > b ? a : b,
            _ => byIp ?? byAccount,
        };
    }

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

    private TimeSpan? Take(string key, DateTimeOffset now, int limit)
    {
        var counter = _counters.GetOrAdd(key, static (_, start) => new Counter { Start = start }, now);
        lock (counter)
        {
            if (now - counter.Start >= Window)
            {
                counter.Start = now;
                counter.Count = 0;
            }
            if (counter.Count >= limit) return counter.Start + Window - now;
            counter.Count++;
            return null;
        }
    }
}
