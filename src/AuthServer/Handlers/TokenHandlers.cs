using AuthServer.Clients;
using AuthServer.DeviceFlow;
using AuthServer.Hosting;
using Microsoft.AspNetCore;
using OpenIddict.Abstractions;
using OpenIddict.Server;
using static OpenIddict.Abstractions.OpenIddictConstants;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace AuthServer.Handlers;

/// <summary>Our rules at the token endpoint, around OpenIddict's handling of the grants.</summary>
public static class TokenHandlers
{
    /// <summary>
    /// The device-code poll (RFC 8628 §3.4–3.5) answered from this node's memory, before OpenIddict authenticates
    /// anything, reads the database or decrypts the code: a pending screen polls every few seconds for minutes.
    /// Only a poll that finds the request approved goes on, to OpenIddict, which redeems the code once. The order of
    /// the checks is §3.5's: unknown → wrong client → wrong key → finished (redeemed, superseded, denied, expired) →
    /// slow_down / authorization_pending.
    /// </summary>
    public sealed class AnswerPollFromMemory(LiveRequestCache cache, IServiceProvider services, ClientStore clients, PendingPolls polls,
        TimeProvider clock, AuthServerMetrics metrics)
        : IOpenIddictServerHandler<ValidateTokenRequestContext>
    {
        public static OpenIddictServerHandlerDescriptor Descriptor { get; } = OpenIddictServerHandlerDescriptor.CreateBuilder<ValidateTokenRequestContext>()
            .UseSingletonHandler<AnswerPollFromMemory>()
            .SetOrder(DpopHandlers.ValidateTokenRequestProof.Descriptor.Order + 100)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build();

        public async ValueTask HandleAsync(ValidateTokenRequestContext context)
        {
            if (!context.Request.IsDeviceCodeGrantType() || context.Request.DeviceCode is not { Length: > 0 } deviceCode) return;
            // RFC 6749 §5.2: a client that may not use the grant hears so first, before anything about the code.
            if (clients.Find(context.ClientId) is { } caller && !caller.GrantTypes.Contains(Clients.GrantTypes.DeviceCode))
            {
                context.Reject(Errors.UnauthorizedClient, "This client may not use the device code grant.");
                return;
            }

            var live = cache.Find(OpaqueSecret.Hash(deviceCode));
            if (live is null)
            {
                // A miss (the first poll after a restart, or another node's request) reads the row once.
                await using var scope = services.CreateAsyncScope();
                live = await scope.ServiceProvider.GetRequiredService<DeviceFlowService>().FindByDeviceCodeAsync(deviceCode, context.CancellationToken);
            }
            // Unknown here: OpenIddict answers invalid_grant for it, as for any unknown code.
            if (live is null) return;

            // §3.4: the code must have been issued to this client; another client learns nothing about it.
            var state = live.State;
            if (state.ClientId != context.ClientId)
            {
                context.Reject(Errors.InvalidGrant, "The device code is not valid.");
                return;
            }
            // Bound from the start: a leaked device code is useless without the screen's private key.
            if (!state.AcceptsProofFrom(DpopHandlers.ProofJkt(context.Transaction)))
            {
                context.Reject(DpopHandlers.Errors.InvalidDpopProof, WrongKey);
                return;
            }
            // A confidential client still proves itself before it learns anything; that costs a query, so it is left
            // to OpenIddict for confidential clients, whose pending polls are then answered after it.
            if (clients.Find(context.ClientId)?.Type == ClientType.Confidential)
            {
                context.Transaction.Properties[DeferredProperty] = live;
                return;
            }
            await AnswerAsync(context, live, polls, clock.GetUtcNow(), metrics);
        }
    }

    /// <summary>
    /// For confidential clients, the same answers once OpenIddict has authenticated the client, still before it reads
    /// the device code.
    /// </summary>
    public sealed class AnswerDeferredPoll(PendingPolls polls, TimeProvider clock, AuthServerMetrics metrics) : IOpenIddictServerHandler<ProcessAuthenticationContext>
    {
        public static OpenIddictServerHandlerDescriptor Descriptor { get; } = OpenIddictServerHandlerDescriptor.CreateBuilder<ProcessAuthenticationContext>()
            .AddFilter<OpenIddictServerHandlerFilters.RequireTokenRequest>()
            .UseSingletonHandler<AnswerDeferredPoll>()
            .SetOrder(OpenIddictServerHandlers.ValidateClientSecret.Descriptor.Order + 1)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build();

        public ValueTask HandleAsync(ProcessAuthenticationContext context) =>
            context.Transaction.Properties.TryGetValue(DeferredProperty, out var value) && value is LiveRequest live
                ? AnswerAsync(context, live, polls, clock.GetUtcNow(), metrics)
                : ValueTask.CompletedTask;
    }

    /// <summary>
    /// RFC 9449 §5: a public client's refresh token is bound to the DPoP key it was issued with; a refresh needs a proof
    /// from that key. Checked before the presentation is counted, so a refused attempt does not use up the retry.
    /// </summary>
    public sealed class RefreshWithTheBoundKey : IOpenIddictServerHandler<ProcessAuthenticationContext>
    {
        public static OpenIddictServerHandlerDescriptor Descriptor { get; } = OpenIddictServerHandlerDescriptor.CreateBuilder<ProcessAuthenticationContext>()
            .AddFilter<OpenIddictServerHandlerFilters.RequireTokenRequest>()
            .AddFilter<OpenIddictServerHandlerFilters.RequireRefreshTokenValidated>()
            .UseSingletonHandler<RefreshWithTheBoundKey>()
            .SetOrder(OpenIddictServerHandlers.ValidateRefreshToken.Descriptor.Order + 10)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build();

        public ValueTask HandleAsync(ProcessAuthenticationContext context)
        {
            if (context.RefreshTokenPrincipal?.GetClaim(Tokens.TokenClaims.RefreshTokenJkt) is { } jkt
                && DpopHandlers.ProofJkt(context.Transaction) != jkt)
                context.Reject(DpopHandlers.Errors.InvalidDpopProof, "This refresh token is bound to a DPoP key: send a proof made with it.");
            return ValueTask.CompletedTask;
        }
    }

    /// <summary>RFC 9449 §10: a code bound with <c>dpop_jkt</c> is redeemed only with a proof from that key.</summary>
    public sealed class RedeemCodeWithTheBoundKey : IOpenIddictServerHandler<ProcessAuthenticationContext>
    {
        public static OpenIddictServerHandlerDescriptor Descriptor { get; } = OpenIddictServerHandlerDescriptor.CreateBuilder<ProcessAuthenticationContext>()
            .AddFilter<OpenIddictServerHandlerFilters.RequireTokenRequest>()
            .AddFilter<OpenIddictServerHandlerFilters.RequireAuthorizationCodeValidated>()
            .UseSingletonHandler<RedeemCodeWithTheBoundKey>()
            .SetOrder(OpenIddictServerHandlers.ValidateAuthorizationCode.Descriptor.Order + 10)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build();

        public ValueTask HandleAsync(ProcessAuthenticationContext context)
        {
            if (context.AuthorizationCodePrincipal?.GetClaim(Tokens.TokenClaims.AuthorizationCodeJkt) is { } jkt
                && DpopHandlers.ProofJkt(context.Transaction) != jkt)
                context.Reject(DpopHandlers.Errors.InvalidDpopProof, "This code is bound to a DPoP key (dpop_jkt): send a proof made with it.");
            return ValueTask.CompletedTask;
        }
    }

    /// <summary>RFC 6749 §6: a refresh may ask for a narrower scope, never a wider one (<c>invalid_scope</c>).</summary>
    public sealed class RefreshWithinTheGrantedScopes : IOpenIddictServerHandler<ProcessAuthenticationContext>
    {
        public static OpenIddictServerHandlerDescriptor Descriptor { get; } = OpenIddictServerHandlerDescriptor.CreateBuilder<ProcessAuthenticationContext>()
            .AddFilter<OpenIddictServerHandlerFilters.RequireTokenRequest>()
            .AddFilter<OpenIddictServerHandlerFilters.RequireRefreshTokenValidated>()
            .UseSingletonHandler<RefreshWithinTheGrantedScopes>()
            .SetOrder(OpenIddictServerHandlers.ValidateRefreshToken.Descriptor.Order + 20)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build();

        public ValueTask HandleAsync(ProcessAuthenticationContext context)
        {
            var granted = context.RefreshTokenPrincipal?.GetScopes() ?? [];
            if (context.Request.GetScopes().Any(scope => !granted.Contains(scope)))
                context.Reject(Errors.InvalidScope, "The requested scope exceeds the scope originally granted.");
            return ValueTask.CompletedTask;
        }
    }

    private const string LoginRequestItem = "authserver:redeeming_login_request";

    /// <summary>Names the login request of the device code this token request redeems.</summary>
    public static void LoginRequestOf(HttpContext context, string loginRequestId) => context.Items[LoginRequestItem] = loginRequestId;

    /// <summary>
    /// Approved → Redeemed for the login request, once OpenIddict has redeemed its device code: OpenIddict decides the one
    /// poll of many that gets tokens (RFC 8628 §3.5: a code redeems once), and the login request follows it, so the
    /// waiting screen's stream and later polls see it at once.
    /// </summary>
    public sealed class FollowRedemption(DeviceFlowService flow, ILogger<FollowRedemption> logger) : IOpenIddictServerHandler<ProcessSignInContext>
    {
        public static OpenIddictServerHandlerDescriptor Descriptor { get; } = OpenIddictServerHandlerDescriptor.CreateBuilder<ProcessSignInContext>()
            .AddFilter<OpenIddictServerHandlerFilters.RequireTokenRequest>()
            .UseScopedHandler<FollowRedemption>()
            .SetOrder(OpenIddictServerHandlers.RedeemTokenEntry.Descriptor.Order + 100)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build();

        public async ValueTask HandleAsync(ProcessSignInContext context)
        {
            var http = context.Transaction.GetHttpRequest()!.HttpContext;
            if (!context.Request.IsDeviceCodeGrantType() || http.Items[LoginRequestItem] is not string id
                || context.Principal?.GetAuthorizationId() is not { } deviceId) return;
            if (await flow.RedeemAsync(id, deviceId, context.CancellationToken) is null)
                logger.LogWarning("Login request {Id} was not approved when OpenIddict redeemed its device code", id);
        }
    }

    private const string DeferredProperty = "authserver:deferred_poll";
    public const string WrongKey = "This login request is bound to a DPoP key: send a proof made with it.";
    public const string PendingDescription = "The user has not yet approved the request.";
    public const string SlowDownDescription = "Polling too fast: add 5 seconds to the interval.";

    /// <summary>
    /// The answer for a request that is not approved; an approved one is left to OpenIddict. A pending one is recorded
    /// where the polling bookkeeping lives (<see cref="PendingPolls"/>): on SQLite in memory, completing at once; on
    /// PostgreSQL in the row, which may show that another node has decided it meanwhile.
    /// </summary>
    public static async ValueTask AnswerAsync(BaseValidatingContext context, LiveRequest live, PendingPolls polls, DateTimeOffset now, AuthServerMetrics metrics)
    {
        if (live.State is { Status: DeviceAuthorizationStatus.Approved } approved && !approved.IsExpired(now))
            await polls.ConfirmApprovedAsync(live, context.CancellationToken);
        if (AnswerUnlessOpen(context, live.State, now, metrics)) return;
        // Still pending or scanned. Only here can a client be slowed down: a poll that finds the request approved
        // always gets its tokens, however soon it came.
        switch (await polls.RecordAsync(live, now, context.CancellationToken))
        {
            case PendingPoll.TooFast:
                metrics.Polled(AuthServerMetrics.PollResult.SlowDown);
                context.Reject(Errors.SlowDown, SlowDownDescription);
                return;
            case PendingPoll.Moved when AnswerUnlessOpen(context, live.State, now, metrics):
                return;
            default:
                metrics.Polled(AuthServerMetrics.PollResult.Pending);
                context.Reject(Errors.AuthorizationPending, PendingDescription);
                return;
        }
    }

    /// <summary>Answers a request that is finished, expired or approved (the last by leaving it to OpenIddict); false for one still open.</summary>
    private static bool AnswerUnlessOpen(BaseValidatingContext context, DeviceAuthorizationState state, DateTimeOffset now, AuthServerMetrics metrics)
    {
        switch (state.Status)
        {
            case DeviceAuthorizationStatus.Redeemed:
                metrics.Polled(AuthServerMetrics.PollResult.Redeemed);
                context.Reject(Errors.InvalidGrant, "The device code has already been used.");
                return true;
            case DeviceAuthorizationStatus.Superseded:
                metrics.Polled(AuthServerMetrics.PollResult.Superseded);
                context.Reject(Errors.ExpiredToken, "The device code was replaced by a newer request.");
                return true;
            case DeviceAuthorizationStatus.Denied:
                metrics.Polled(AuthServerMetrics.PollResult.Denied);
                context.Reject(Errors.AccessDenied, "The user denied the request.");
                return true;
            case var _ when state.IsExpired(now):
                metrics.Polled(AuthServerMetrics.PollResult.Expired);
                context.Reject(Errors.ExpiredToken, "The device code has expired: start a new request.");
                return true;
            case DeviceAuthorizationStatus.Approved:
                metrics.Polled(AuthServerMetrics.PollResult.Approved);
                return true;
            default:
                return false;
        }
    }
}
