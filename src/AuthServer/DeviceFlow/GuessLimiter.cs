using AuthServer.Data;
using AuthServer.Hosting;
using AuthServer.RateLimits;

namespace AuthServer.DeviceFlow;

/// <summary>
/// RFC 8628 §5.1: user codes carry about 34.5 bits, which is only enough when guesses are limited. Every lookup of a
/// user code (the verification page, a phone scan) counts against the signed-in account and the client's network
/// (<see cref="NetworkPartition"/>), and reserves a permit of the server-wide budget for unknown codes, given back when
/// the code was found: so at most that budget of lookups can miss in a window, whatever the number of accounts and
/// networks a guesser has, and however many lookups run at once. docs/security.md computes the bound this gives.
/// </summary>
/// <remarks>
/// This process makes its budgeted lookups one at a time. The budget is small (2 by default), and a lookup in flight
/// holds its permit until it has found its code: run side by side, two real scans would hold the whole budget for a
/// moment, and a third would be refused although nothing missed, its refused count staying in the window. In turn,
/// each waits a lookup's time (one indexed read) instead. Several nodes still look up side by side, one each.
/// </remarks>
public sealed class GuessLimiter(RateLimiters limits, AuthServerMetrics metrics)
{
    private readonly SemaphoreSlim _oneAtATime = new(1, 1);

    /// <summary>
    /// Counts one lookup of <paramref name="userCode"/> (normalized; null when the input was no user code at all) and,
    /// when allowed, makes it with <paramref name="find"/>. Refused: 429 with <c>Retry-After</c> for the caller to
    /// answer, and nothing about the code; the window's first refusal of each partition is audited. Input that is no
    /// user code counts against the account and the network but cannot be a guess, so it spends no budget.
    /// </summary>
    public async Task<(RateLimitRefusal? Refusal, T? Found)> LookUpAsync<T>(HttpContext context, string userId, string? userCode,
        Func<string, CancellationToken, Task<T?>> find) where T : class
    {
        var network = NetworkPartition.Of(context);
        var cancellationToken = context.RequestAborted;
        var (refusal, _) = await limits.TakeAsync(limits.UserCodeLookupsPerAccount, userId, context,
            new(Audit.UserCodeRateLimited, "user-code lookups", "by this account", userId), cancellationToken);
        refusal ??= (await limits.TakeAsync(limits.UserCodeLookupsPerNetwork, network, context,
            new(Audit.UserCodeRateLimited, "user-code lookups", $"from the network {network}", userId), cancellationToken)).Refusal;
        if (refusal is not null)
        {
            metrics.UserCodeLookupRefused();
            return (refusal, null);
        }
        if (userCode is null) return (null, null);

        await _oneAtATime.WaitAsync(cancellationToken);
        try
        {
            var (overBudget, lease) = await limits.TakeAsync(limits.UnknownUserCodes, "server", context,
                new(Audit.UserCodeRateLimited, "lookups of unknown user codes", "on this server, from every account and network", userId), cancellationToken);
            if (overBudget is not null)
            {
                metrics.UserCodeLookupRefused();
                return (overBudget, null);
            }
            // A lookup that fails (the database is down) keeps its permit: it may have been a guess.
            var found = await find(userCode, cancellationToken);
            if (found is not null) await limits.UnknownUserCodes.GiveBackAsync(lease, cancellationToken);
            return (null, found);
        }
        finally
        {
            _oneAtATime.Release();
        }
    }
}
