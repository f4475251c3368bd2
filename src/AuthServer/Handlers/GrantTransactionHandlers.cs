using AuthServer.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;
using OpenIddict.Abstractions;
using OpenIddict.Server;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace AuthServer.Handlers;

/// <summary>
/// A grant's writes at the token endpoint commit as one: the redemption of the code or refresh token it presented
/// (RFC 6749 §4.1.2, §6; RFC 9700 §4.14.2), the rows of the tokens it issues with their audit event, and the link from
/// a rotated refresh token to its successor. Each was a commit of its own, so a failure between them (a crash, a lost
/// database) could leave a refresh token redeemed with no successor, and every commit is a turn at SQLite's single
/// writer and a write of the same pages to the log (docs/benchmarks.md). Now they commit together: a grant that fails
/// on the way leaves nothing behind, and the client may simply try again.
/// </summary>
/// <remarks>
/// A device code's grant also moves its login request to Redeemed (<see cref="TokenHandlers.FollowRedemption"/>), on
/// another connection (a lane), which on SQLite must take the same single writer: its transaction begins after that,
/// so it holds the tokens' rows and the successor link but not the code's redemption. A refresh grant's begins earlier,
/// at the count of the token's presentation (<see cref="RefreshReuseHandlers.CountPresentations"/>), so that the count
/// is in it too: one commit per refresh grant, not two. The transaction commits at the end of sign-in, or before the
/// error of a rejected request (<see cref="CommitRejected"/>); a request that throws rolls it back with its scope.
/// </remarks>
public static class GrantTransactionHandlers
{
    private const string TransactionProperty = "authserver:grant_transaction";

    /// <summary>Refresh token, authorization code and client credentials grants: the transaction begins before the redemption.</summary>
    public sealed class BeginBeforeRedemption(AuthServerDbContext db) : IOpenIddictServerHandler<ProcessSignInContext>
    {
        public static OpenIddictServerHandlerDescriptor Descriptor { get; } = OpenIddictServerHandlerDescriptor.CreateBuilder<ProcessSignInContext>()
            .AddFilter<OpenIddictServerHandlerFilters.RequireTokenRequest>()
            .UseScopedHandler<BeginBeforeRedemption>()
            .SetOrder(OpenIddictServerHandlers.RedeemTokenEntry.Descriptor.Order - 1)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build();

        public ValueTask HandleAsync(ProcessSignInContext context) =>
            context.Request.IsDeviceCodeGrantType() ? ValueTask.CompletedTask : BeginAsync(db, context.Transaction, context.Principal?.GetAuthorizationId(), context.CancellationToken);
    }

    /// <summary>The device code grant: the transaction begins once its login request has moved to Redeemed.</summary>
    public sealed class BeginAfterLoginRequest(AuthServerDbContext db) : IOpenIddictServerHandler<ProcessSignInContext>
    {
        public static OpenIddictServerHandlerDescriptor Descriptor { get; } = OpenIddictServerHandlerDescriptor.CreateBuilder<ProcessSignInContext>()
            .AddFilter<OpenIddictServerHandlerFilters.RequireTokenRequest>()
            .UseScopedHandler<BeginAfterLoginRequest>()
            .SetOrder(TokenHandlers.FollowRedemption.Descriptor.Order + 1)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build();

        public ValueTask HandleAsync(ProcessSignInContext context) =>
            context.Request.IsDeviceCodeGrantType() ? BeginAsync(db, context.Transaction, context.Principal?.GetAuthorizationId(), context.CancellationToken) : ValueTask.CompletedTask;
    }

    /// <summary>
    /// Begins the grant's transaction, unless one is open already (a refresh grant's, begun at its count, or a
    /// caller's own, which already makes the grant one unit). <paramref name="deviceId"/> is the linked device the
    /// grant's tokens belong to.
    /// </summary>
    internal static async ValueTask BeginAsync(AuthServerDbContext db, OpenIddictServerTransaction transaction, string? deviceId,
        CancellationToken cancellationToken)
    {
        if (db.Database.CurrentTransaction is not null) return;
        transaction.Properties[TransactionProperty] = await db.BeginWriteAsync(cancellationToken);
        // On PostgreSQL, writers of one linked device meet at its authorization row before any of its tokens. Logging a
        // device out (refresh token reuse, the phone, an admin) revokes the authorization and then all its tokens in
        // one transaction; a grant locks token rows (the redemption, a replaced successor's revocation). Without a
        // common first lock the two took token rows in different orders and PostgreSQL broke the deadlock by failing
        // one of them (a 503). A shared lock: grants of one device still run side by side; a logout waits for them, or
        // they for it. SQLite has one writer at a time, so nothing can deadlock there.
        if (!db.Database.IsSqlite() && deviceId is { Length: > 0 })
            await db.Database.ExecuteSqlAsync($"SELECT 1 FROM \"OpenIddictAuthorizations\" WHERE \"Id\" = {deviceId} FOR SHARE", cancellationToken);
    }

    /// <summary>
    /// Gives up the grant's transaction before its request is refused with work of its own to do in a transaction of its
    /// own (logging a device out for refresh token reuse). Only for a transaction that has written nothing worth keeping.
    /// </summary>
    internal static async ValueTask AbandonAsync(OpenIddictServerTransaction transaction, CancellationToken cancellationToken)
    {
        if (!transaction.Properties.Remove(TransactionProperty, out var value) || value is not IDbContextTransaction open) return;
        await using (open) await open.RollbackAsync(cancellationToken);
    }

    /// <summary>Commits the grant's transaction once every token is generated and stored.</summary>
    public sealed class Commit : IOpenIddictServerHandler<ProcessSignInContext>
    {
        public static OpenIddictServerHandlerDescriptor Descriptor { get; } = OpenIddictServerHandlerDescriptor.CreateBuilder<ProcessSignInContext>()
            .AddFilter<OpenIddictServerHandlerFilters.RequireTokenRequest>()
            .UseSingletonHandler<Commit>()
            .SetOrder(int.MaxValue - 100_000)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build();

        public ValueTask HandleAsync(ProcessSignInContext context) => CommitAsync(context.Transaction, context.CancellationToken);
    }

    /// <summary>
    /// A sign-in a handler rejected after the redemption stops before <see cref="Commit"/>. What it wrote still commits,
    /// before the error is written: OpenIddict redeems early on purpose, so that an exchange refused later in sign-in
    /// still spends its code (RFC 6749 §4.1.2). Only a failure (an exception) rolls the grant back, with the request's
    /// scope: nothing was issued then, and the client may try again.
    /// </summary>
    public sealed class CommitRejected : IOpenIddictServerHandler<ApplyTokenResponseContext>
    {
        public static OpenIddictServerHandlerDescriptor Descriptor { get; } = OpenIddictServerHandlerDescriptor.CreateBuilder<ApplyTokenResponseContext>()
            .UseSingletonHandler<CommitRejected>()
            .SetOrder(int.MinValue + 50_000)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build();

        public ValueTask HandleAsync(ApplyTokenResponseContext context) => CommitAsync(context.Transaction, context.CancellationToken);
    }

    private static async ValueTask CommitAsync(OpenIddictServerTransaction transaction, CancellationToken cancellationToken)
    {
        if (!transaction.Properties.Remove(TransactionProperty, out var value) || value is not IDbContextTransaction open) return;
        await using (open) await open.CommitAsync(cancellationToken);
    }
}
