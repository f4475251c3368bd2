using System.Threading.RateLimiting;
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
public sealed class GuessLimiter(RateLimiters limits, AuthServerMetrics metrics)
{
    /// <summary>The right to look one code up; a lookup that was no guess says so (<see cref="NoGuessAsync"/>).</summary>
    public sealed class Lookup(RateLimitRefusal? refusal, FixedWindowLimiter? budget, RateLimitLease? reserved)
    {
        public RateLimitRefusal? Refusal { get; } = refusal;

        /// <summary>
        /// The lookup found its code, or the input was no user code at all, so it could not have guessed one: its
        /// permit of the unknown-code budget goes back.
        /// </summary>
        public ValueTask NoGuessAsync(CancellationToken cancellationToken) =>
            budget is not null && reserved is not null ? budget.GiveBackAsync(reserved, cancellationToken) : ValueTask.CompletedTask;
    }

    /// <summary>
    /// Counts one lookup before it is made. Refused: 429 with <c>Retry-After</c> for the caller to answer, and nothing
    /// about the code; the window's first refusal of each partition is audited.
    /// </summary>
    public async Task<Lookup> TryAcquireAsync(HttpContext context, string userId)
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
            return new(refusal, null, null);
        }

        var (overBudget, lease) = await limits.TakeAsync(limits.UnknownUserCodes, "server", context,
            new(Audit.UserCodeRateLimited, "lookups of unknown user codes", "on this server, from every account and network", userId), cancellationToken);
        if (overBudget is not null) metrics.UserCodeLookupRefused();
        return new(overBudget, limits.UnknownUserCodes, lease);
    }
}
