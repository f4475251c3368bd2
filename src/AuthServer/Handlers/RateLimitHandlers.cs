using AuthServer.Clients;
using AuthServer.Data;
using AuthServer.Hosting;
using AuthServer.Protocol;
using AuthServer.RateLimits;
using Microsoft.AspNetCore;
using OpenIddict.Abstractions;
using OpenIddict.Server;
using static OpenIddict.Abstractions.OpenIddictConstants;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace AuthServer.Handlers;

/// <summary>
/// The protocol endpoints' rate limits, first among their validation handlers, so a refused request costs no client
/// authentication, no DPoP check and no database read. Only registered clients are counted: an unknown client id
/// is refused by OpenIddict anyway and must not grow the counters. A refusal answers 429 with <c>Retry-After</c> and
/// an RFC 6749 §5.2 error body, written here, and ends the request.
/// </summary>
public static class RateLimitHandlers
{
    /// <summary>RFC 8628 §3.1: device authorization requests per client and per client network, across the cluster.</summary>
    public sealed class LimitDeviceAuthorizations(RateLimiters limits, ClientStore clients, AuthServerMetrics metrics)
        : IOpenIddictServerHandler<ValidateDeviceAuthorizationRequestContext>
    {
        public static OpenIddictServerHandlerDescriptor Descriptor { get; } = OpenIddictServerHandlerDescriptor.CreateBuilder<ValidateDeviceAuthorizationRequestContext>()
            .UseSingletonHandler<LimitDeviceAuthorizations>()
            .SetOrder(int.MinValue + 100_000)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build();

        public async ValueTask HandleAsync(ValidateDeviceAuthorizationRequestContext context)
        {
            if (clients.Find(context.ClientId) is not { } client) return;
            var http = context.Transaction.GetHttpRequest()!.HttpContext;
            var network = NetworkPartition.Of(http);
            var (refusal, _) = await limits.TakeAsync(limits.DeviceAuthorizationsPerClient, client.ClientId, http,
                new(Audit.DeviceAuthorizationRateLimited, "device authorization requests", "for this client", ClientId: client.ClientId), context.CancellationToken);
            refusal ??= (await limits.TakeAsync(limits.DeviceAuthorizationsPerNetwork, network, http,
                new(Audit.DeviceAuthorizationRateLimited, "device authorization requests", $"from the network {network}", ClientId: client.ClientId), context.CancellationToken)).Refusal;
            if (refusal is null) return;
            metrics.DeviceAuthorizationRefused();
            // RFC 6749 §4.1.2.1's code for a server that cannot take the request now; §5.2 lets the endpoint use it.
            await RefuseAsync(context, http, refusal, "temporarily_unavailable",
                $"Too many device authorization requests; try again in {refusal.RetryAfterSeconds} seconds.");
        }
    }

    /// <summary>
    /// Token requests per client, counted on each node: the device-code poll is answered from memory
    /// (<see cref="TokenHandlers.AnswerPollFromMemory"/>) and a shared count would add a database write to every
    /// poll. A device-code poll over the limit hears <c>slow_down</c> (RFC 8628 §3.5), so a standard client also
    /// lengthens its interval; any other grant hears <c>temporarily_unavailable</c>.
    /// </summary>
    public sealed class LimitTokenRequests(RateLimiters limits, ClientStore clients, AuthServerMetrics metrics)
        : IOpenIddictServerHandler<ValidateTokenRequestContext>
    {
        public static OpenIddictServerHandlerDescriptor Descriptor { get; } = OpenIddictServerHandlerDescriptor.CreateBuilder<ValidateTokenRequestContext>()
            .UseSingletonHandler<LimitTokenRequests>()
            .SetOrder(int.MinValue + 100_000)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build();

        public async ValueTask HandleAsync(ValidateTokenRequestContext context)
        {
            if (clients.Find(context.ClientId) is not { } client) return;
            var http = context.Transaction.GetHttpRequest()!.HttpContext;
            if (await RefuseTokenRequestAsync(limits, metrics, client.ClientId, http, context.Request.IsDeviceCodeGrantType(), context.CancellationToken))
                context.HandleRequest();
        }
    }

    /// <summary>
    /// Counts a token request of <paramref name="clientId"/> and, over the limit, writes the refusal (429 with
    /// <c>Retry-After</c>; <c>slow_down</c> for a device-code poll) and returns true. The one count for OpenIddict's
    /// token requests and for the polls <see cref="Protocol.PendingPollShortcut"/> answers before them.
    /// </summary>
    public static async Task<bool> RefuseTokenRequestAsync(RateLimiters limits, AuthServerMetrics metrics, string clientId, HttpContext http,
        bool deviceCodePoll, CancellationToken cancellationToken)
    {
        var (refusal, _) = await limits.TakeAsync(limits.TokenRequestsPerClient, clientId, http,
            new(Audit.TokenRateLimited, "token requests", "for this client on this node", ClientId: clientId), cancellationToken);
        if (refusal is null) return false;
        metrics.TokenRequestRefused();
        refusal.Apply(http.Response);
        await (deviceCodePoll
            ? new OAuthError(Errors.SlowDown, $"Too many token requests for this client; poll again in {refusal.RetryAfterSeconds} seconds.", StatusCodes.Status429TooManyRequests)
            : new OAuthError("temporarily_unavailable", $"Too many token requests for this client; try again in {refusal.RetryAfterSeconds} seconds.", StatusCodes.Status429TooManyRequests))
            .ExecuteAsync(http);
        return true;
    }

    private static async Task RefuseAsync(BaseRequestContext context, HttpContext http, RateLimitRefusal refusal, string error, string description)
    {
        refusal.Apply(http.Response);
        await new OAuthError(error, description, StatusCodes.Status429TooManyRequests).ExecuteAsync(http);
        context.HandleRequest();
    }
}
