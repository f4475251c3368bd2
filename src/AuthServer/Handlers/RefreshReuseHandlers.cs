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
        TimeProvider clock, Hosting.AuthServerMetrics metrics, ILogger<CountPresentations> logger) : IOpenIddictServerHandler<ProcessAuthenticationContext>
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
            // The grant's transaction begins here, so the count commits with the redemption and the new tokens: one
            // commit per grant. A presentation refused later in the request still counts (it commits before the error,
            // GrantTransactionHandlers.CommitRejected); one that fails on the way is not counted, and may be retried.
            await GrantTransactionHandlers.BeginAsync(db, context.Transaction, context.RefreshTokenPrincipal.GetAuthorizationId(), context.CancellationToken);
            // The common case, a first use, is one statement: the row's key lets one of concurrent first uses in.
            if (await FirstUseAsync(db, tokenId, context.CancellationToken))
            {
                context.Transaction.Properties[PresentedProperty] = new Presented(tokenId);
                return;
            }
            // Seen before: how often, and whether its successor was used. A retry is for a lost response: a used
            // successor means a second holder has the token.
            var seen = await db.RefreshTokenUses.AsNoTracking().Where(u => u.TokenId == tokenId)
                .Select(u => new Seen(u.Presentations, u.SuccessorId,
                    db.RefreshTokenUses.Any(s => s.TokenId == u.SuccessorId && s.Presentations > 0)))
                .SingleOrDefaultAsync(context.CancellationToken) ?? new Seen(0, null, false);
            // One conditional statement counts the presentation: of concurrent uses, only as many as allowed get past.
            var counted = !seen.SuccessorUsed && seen.Presentations is > 0 and < MaxPresentations
                && await db.RefreshTokenUses.Where(u => u.TokenId == tokenId && u.Presentations == seen.Presentations)
                    .ExecuteUpdateAsync(u => u.SetProperty(x => x.Presentations, seen.Presentations + 1), context.CancellationToken) == 1;
            if (counted)
            {
                context.Transaction.Properties[PresentedProperty] = new Presented(tokenId);
                return;
            }

            // Reuse. Nothing was written in the grant's transaction (the insert found the row, the count matched none),
            // and the logout takes the device's row first in a transaction of its own, with its audit event.
            await GrantTransactionHandlers.AbandonAsync(context.Transaction, context.CancellationToken);
            var authorizationId = context.RefreshTokenPrincipal.GetAuthorizationId();
            await EndForReuseAsync(db, authorizations, tokens, authorizationId, context.RefreshTokenPrincipal.GetClaim(Claims.Subject), context.ClientId,
                $"A rotated refresh token was presented again beyond its one retry; device {authorizationId} logged out.", clock, context.CancellationToken);
            logger.LogWarning("Refresh token reuse: device {DeviceId} logged out", authorizationId);
            metrics.RefreshTokenReused(afterLeeway: false);
            context.Reject(Errors.InvalidGrant, "The refresh token was already used; the session has been revoked for safety.");
        }
    }

    /// <summary>Logs the device out and audits the reuse, in one transaction.</summary>
    private static async Task EndForReuseAsync(AuthServerDbContext db, IOpenIddictAuthorizationManager authorizations, IOpenIddictTokenManager tokens,
        string? deviceId, string? userId, string? clientId, string detail, TimeProvider clock, CancellationToken cancellationToken)
    {
        await using var write = await db.BeginWriteAsync(cancellationToken);
        if (deviceId is not null) await Tokens.LinkedDevices.EndAsync(db, authorizations, tokens, deviceId, cancellationToken);
        Audit.Add(db, Audit.RefreshTokenReuse, clock.GetUtcNow(), userId, clientId, detail);
        await db.SaveChangesAsync(cancellationToken);
        await write.CommitAsync(cancellationToken);
    }

    /// <summary>Counts a token's first presentation; false when it was presented before (or concurrently, and lost).</summary>
    private static async Task<bool> FirstUseAsync(AuthServerDbContext db, string tokenId, CancellationToken cancellationToken) =>
        await db.Database.ExecuteSqlAsync(
            $"INSERT INTO \"RefreshTokenUses\" (\"TokenId\", \"Presentations\") VALUES ({tokenId}, 1) ON CONFLICT DO NOTHING",
            cancellationToken) == 1;

    /// <summary>
    /// OpenIddict redeems a presented refresh token and goes on whatever the outcome, since a concurrent use may have
    /// won the write (the count above decides about those). A token revoked in between, by its device's logout after
    /// the grant had validated it, also loses that write, and the grant then issued tokens to a logged-out device. When
    /// the redemption was lost, the row is read again, now that the grant's transaction holds the device's row
    /// (PostgreSQL) or the writer (SQLite): a revoked token is refused (RFC 6749 §5.2 <c>invalid_grant</c>).
    /// </summary>
    public sealed class RefuseRevokedDuringGrant(IOpenIddictTokenManager tokens, IOpenIddictTokenStore<Data.Entities.Token> store)
        : IOpenIddictServerHandler<ProcessSignInContext>
    {
        public static OpenIddictServerHandlerDescriptor Descriptor { get; } = OpenIddictServerHandlerDescriptor.CreateBuilder<ProcessSignInContext>()
            .AddFilter<OpenIddictServerHandlerFilters.RequireTokenRequest>()
            .UseScopedHandler<RefuseRevokedDuringGrant>()
            .SetOrder(OpenIddictServerHandlers.RedeemTokenEntry.Descriptor.Order + 1)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build();

        public async ValueTask HandleAsync(ProcessSignInContext context)
        {
            if (!context.Request.IsRefreshTokenGrantType() || tokens is not Data.Stores.TokenManager { LostRedemption: { } tokenId }) return;
            // The store forgot the row when its write failed: this reads it from the database.
            if (await store.FindByIdAsync(tokenId, context.CancellationToken) is not { Status: not Statuses.Revoked })
                context.Reject(Errors.InvalidGrant, "The refresh token was revoked.");
        }
    }

    private sealed record Seen(int Presentations, string? SuccessorId, bool SuccessorUsed);

    private const string PresentedProperty = "authserver:presented_refresh_token";

    /// <summary>The refresh token presented; <see cref="LinkSuccessor"/> links it to the one issued for it.</summary>
    private sealed record Presented(string TokenId);

    /// <summary>
    /// Links the presented refresh token to its successor. A retry replaces the successor that was never used, so the
    /// family keeps exactly one live refresh token. Two concurrent uses (a retry racing the first try) both get past
    /// the count before either has linked its successor, so the link is a swap: whichever links second revokes the
    /// successor it replaces, whatever the order.
    /// </summary>
    public sealed class LinkSuccessor(AuthServerDbContext db, IOpenIddictTokenManager tokens) : IOpenIddictServerHandler<ProcessSignInContext>
    {
        public static OpenIddictServerHandlerDescriptor Descriptor { get; } = OpenIddictServerHandlerDescriptor.CreateBuilder<ProcessSignInContext>()
            .AddFilter<OpenIddictServerHandlerFilters.RequireTokenRequest>()
            .AddFilter<OpenIddictServerHandlerFilters.RequireRefreshTokenGenerated>()
            .UseScopedHandler<LinkSuccessor>()
            .SetOrder(OpenIddictServerHandlers.GenerateRefreshToken.Descriptor.Order + 100)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build();

        public async ValueTask HandleAsync(ProcessSignInContext context)
        {
            if (!context.Transaction.Properties.TryGetValue(PresentedProperty, out var value) || value is not Presented presented
                || context.RefreshTokenPrincipal?.GetTokenId() is not { } successorId) return;
            // The common case, a first use with no successor yet, is one statement, written as SQL: EF's ExecuteUpdate
            // builds and compares an expression tree on every call, on every refresh grant (docs/benchmarks.md).
            if (await db.Database.ExecuteSqlAsync(
                    $"UPDATE \"RefreshTokenUses\" SET \"SuccessorId\" = {successorId} WHERE \"TokenId\" = {presented.TokenId} AND \"SuccessorId\" IS NULL",
                    context.CancellationToken) == 1)
                return;
            for (var attempt = 0; attempt < 8; attempt++)
            {
                var replaced = await db.RefreshTokenUses.AsNoTracking().Where(u => u.TokenId == presented.TokenId)
                    .Select(u => u.SuccessorId).SingleOrDefaultAsync(context.CancellationToken);
                // Only while the successor is still the one read: of two swaps, each replaces exactly what it revokes.
                if (await db.RefreshTokenUses.Where(u => u.TokenId == presented.TokenId && u.SuccessorId == replaced)
                        .ExecuteUpdateAsync(u => u.SetProperty(x => x.SuccessorId, successorId), context.CancellationToken) != 1)
                    continue;
                if (replaced is not null && replaced != successorId && await tokens.FindByIdAsync(replaced, context.CancellationToken) is { } token)
                    await tokens.TryRevokeAsync(token, context.CancellationToken);
                return;
            }
        }
    }

    /// <summary>
    /// A rotated refresh token presented after the leeway: OpenIddict rejects it and revokes the authorization (the
    /// linked device) right after this handler. This one ends the device first, in one transaction with the audit
    /// event that reuse deserves; OpenIddict then finds it ended.
    /// </summary>
    public sealed class AuditReuseAfterLeeway(AuthServerDbContext db, IOpenIddictAuthorizationManager authorizations, IOpenIddictTokenManager tokens,
        Microsoft.Extensions.Options.IOptions<Hosting.TokenOptions> options, TimeProvider clock, Hosting.AuthServerMetrics metrics,
        ILogger<AuditReuseAfterLeeway> logger)
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
            metrics.RefreshTokenReused(afterLeeway: true);
            await EndForReuseAsync(db, authorizations, tokens, deviceId, principal.GetClaim(Claims.Subject), context.Request.ClientId,
                $"A rotated refresh token was presented again after the leeway; device {deviceId} logged out.", clock, context.CancellationToken);
        }
    }
}
