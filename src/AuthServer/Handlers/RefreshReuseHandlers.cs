using AuthServer.Data;
using Microsoft.EntityFrameworkCore;
using OpenIddict.Abstractions;
using OpenIddict.Server;
using static OpenIddict.Abstractions.OpenIddictConstants;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace AuthServer.Handlers;

/// <summary>
/// Refresh token reuse (RFC 9700 §4.14.2). OpenIddict rotates refresh tokens and revokes the authorization when a
/// rotated one comes back after the reuse leeway; within the leeway it accepts the token as often as it comes, so 20
/// parallel uses gave 10 live token pairs. A rotated token may be retried once, for a response lost on the way; every
/// further presentation is reuse: the linked device is logged out, and the event is audited.
/// </summary>
public static class RefreshReuseHandlers
{
    /// <summary>The first use and one retry.</summary>
    public const int MaxPresentations = 2;

    public sealed class CountPresentations(AuthServerDbContext db, IOpenIddictAuthorizationManager authorizations, IOpenIddictTokenManager tokens,
        TimeProvider clock, ILogger<CountPresentations> logger) : IOpenIddictServerHandler<ProcessAuthenticationContext>
    {
        public static OpenIddictServerHandlerDescriptor Descriptor { get; } = OpenIddictServerHandlerDescriptor.CreateBuilder<ProcessAuthenticationContext>()
            .AddFilter<OpenIddictServerHandlerFilters.RequireTokenRequest>()
            .AddFilter<OpenIddictServerHandlerFilters.RequireRefreshTokenValidated>()
            .UseScopedHandler<CountPresentations>()
            .SetOrder(OpenIddictServerHandlers.ValidateRefreshToken.Descriptor.Order + 100)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build();

        public async ValueTask HandleAsync(ProcessAuthenticationContext context)
        {
            if (context.RefreshTokenPrincipal?.GetTokenId() is not { } tokenId) return;
            // One conditional UPDATE counts the presentation: concurrent uses cannot all slip under the limit.
            var counted = await db.Tokens.Where(t => t.Id == tokenId && t.Presentations < MaxPresentations)
                .ExecuteUpdateAsync(u => u.SetProperty(t => t.Presentations, t => t.Presentations + 1), context.CancellationToken);
            if (counted == 1) return;

            var authorizationId = context.RefreshTokenPrincipal.GetAuthorizationId();
            if (authorizationId is not null)
            {
                if (await authorizations.FindByIdAsync(authorizationId, context.CancellationToken) is { } authorization)
                    await authorizations.TryRevokeAsync(authorization, context.CancellationToken);
                await tokens.RevokeByAuthorizationIdAsync(authorizationId, context.CancellationToken);
            }
            logger.LogWarning("Refresh token reuse: device {DeviceId} logged out", authorizationId);
            await Audit.WriteAsync(db, Audit.RefreshTokenReuse, clock.GetUtcNow(), context.RefreshTokenPrincipal.GetClaim(Claims.Subject),
                context.ClientId, $"A refresh token was presented more than once after its rotation; device {authorizationId} logged out.",
                context.CancellationToken);
            context.Reject(Errors.InvalidGrant, "The refresh token was already used; the session has been revoked for safety.");
        }
    }

    /// <summary>
    /// A rotated refresh token presented after the leeway: OpenIddict rejects it and revokes the authorization (the
    /// linked device) itself, right after this handler; this one writes the audit event that reuse deserves.
    /// </summary>
    public sealed class AuditReuseAfterLeeway(AuthServerDbContext db, IOpenIddictTokenManager tokens,
        Microsoft.Extensions.Options.IOptions<Hosting.TokenOptions> options, TimeProvider clock, ILogger<AuditReuseAfterLeeway> logger)
        : IOpenIddictServerHandler<ValidateTokenContext>
    {
        public static OpenIddictServerHandlerDescriptor Descriptor { get; } = OpenIddictServerHandlerDescriptor.CreateBuilder<ValidateTokenContext>()
            .AddFilter<OpenIddictServerHandlerFilters.RequireTokenStorageEnabled>()
            .UseScopedHandler<AuditReuseAfterLeeway>()
            .SetOrder(OpenIddictServerHandlers.Protection.ValidateTokenEntry.Descriptor.Order - 1)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build();

        public async ValueTask HandleAsync(ValidateTokenContext context)
        {
            if (context.Principal is not { } principal || !principal.HasTokenType(TokenTypeIdentifiers.RefreshToken)
                || context.Request?.IsRefreshTokenGrantType() != true || principal.GetTokenId() is not { } tokenId) return;
            if (await tokens.FindByIdAsync(tokenId, context.CancellationToken) is not { } token
                || !await tokens.HasStatusAsync(token, Statuses.Redeemed, context.CancellationToken)
                || await tokens.GetRedemptionDateAsync(token, context.CancellationToken) is not { } redeemedAt
                || clock.GetUtcNow() - redeemedAt <= options.Value.RefreshTokenReuseLeeway) return;

            var deviceId = principal.GetAuthorizationId();
            logger.LogWarning("Refresh token reuse after the leeway: device {DeviceId} is logged out", deviceId);
            await Audit.WriteAsync(db, Audit.RefreshTokenReuse, clock.GetUtcNow(), principal.GetClaim(Claims.Subject), context.Request.ClientId,
                $"A rotated refresh token was presented again after the leeway; device {deviceId} logged out.", context.CancellationToken);
        }
    }
}
