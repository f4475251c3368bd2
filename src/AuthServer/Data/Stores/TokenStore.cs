using AuthServer.Data.Entities;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Options;
using OpenIddict.Abstractions;
using OpenIddict.EntityFrameworkCore;

namespace AuthServer.Data.Stores;

/// <summary>
/// OpenIddict's EF Core token store, with its hot paths made single statements (a supported extension point:
/// <c>ReplaceTokenStore</c>). Every login creates, reads and redeems several tokens, and the stock store did each
/// through the change tracker and SaveChanges, with a second query for every application or authorization it linked.
/// Here:
/// <list type="bullet">
/// <item>a token is created with one INSERT and updated with one UPDATE that checks and moves the concurrency token,
/// so of two concurrent redemptions of one code exactly one wins, as with SaveChanges;</item>
/// <item>lookups by id and by reference id are compiled, untracked queries that read the token's authorization (its
/// linked device) in the same statement, for OpenIddict's authorization entry validation, which follows every token
/// validation (<see cref="ReadAuthorizations"/>): one statement where there were two, on every phone API call and
/// every refresh grant; and the account the token's subject names, which an approval or a grant checks again before it
/// issues anything (<see cref="ReadAccounts"/>);</item>
/// <item>the application and authorization are the row's own foreign-key columns, never loaded to be linked.</item>
/// </list>
/// A token read in a request is remembered for the rest of that request (the store is scoped): OpenIddict reads the
/// same token in several handlers, and the remembered entity is the one this request updates, so it never goes stale
/// through the request's own writes; another request's write still fails this one's concurrency check.
/// A write that the audit log records (an access token issued, a token revoked: <see cref="AuditInterceptor.TokenEvent"/>)
/// commits in one transaction with its event, as OpenIddict's SaveChanges did with the interceptor.
/// An entity the change tracker already holds (loaded by one of the store's other queries) still goes through
/// OpenIddict's own code, so the two ways never write one row at odds.
/// </summary>
public sealed class TokenStore(IMemoryCache cache, IOpenIddictEntityFrameworkCoreContext context,
    IOptionsMonitor<OpenIddictEntityFrameworkCoreOptions> options, AuthServerDbContext db,
    Clients.ClientStore clients, IHttpContextAccessor http, TimeProvider clock, ReadAuthorizations authorizations, ReadAccounts accounts)
    : OpenIddictEntityFrameworkCoreTokenStore<Token, Application, Authorization, string>(cache, context, options)
{
    private static readonly CompiledLookup<TokenRow> ById = Lookup(nameof(Token.Id));

    private static readonly CompiledLookup<TokenRow> ByReferenceId = Lookup(nameof(Token.ReferenceId));

    /// <summary>The token whose <paramref name="column"/> is the key, with its authorization and account.</summary>
    private static CompiledLookup<TokenRow> Lookup(string column) =>
        new((db, key, _) => (from t in db.Tokens.AsNoTracking()
                             where EF.Property<string>(t, column) == key
                             join u in db.Users.AsNoTracking() on t.Subject equals u.Id into accounts
                             from u in accounts.DefaultIfEmpty()
                             select new TokenRow(t, t.Authorization, u)).FirstOrDefault());

    /// <summary>
    /// A token row with the authorization row its foreign key names and the account its subject names (LEFT JOINs:
    /// null when there is none; a client's own token names no account).
    /// </summary>
    private sealed record TokenRow(Token Token, Authorization? Authorization, ApplicationUser? Account);

    private readonly Dictionary<string, Token> _read = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Token> _readByReference = new(StringComparer.Ordinal);
    // The status each remembered token has in its row, to tell a revocation from a write of a revoked token.
    private readonly Dictionary<string, string?> _storedStatus = new(StringComparer.Ordinal);

    // A created entry held back until OpenIddict attaches its payload (Handlers/TokenStorageHandlers.DeferEntryUntilPayload).
    private bool _deferNextCreate;
    private Token? _unwritten;

    /// <summary>Whether the next entry created waits for its payload before it is inserted.</summary>
    internal void DeferNextCreate(bool defer) => _deferNextCreate = defer;

    /// <summary>Inserts the entry that waits for its payload, if there is one.</summary>
    internal async ValueTask WriteDeferredAsync(CancellationToken cancellationToken)
    {
        _deferNextCreate = false;
        if (_unwritten is not { } token) return;
        _unwritten = null;
        await InsertAsync(token, cancellationToken);
    }

    public override async ValueTask CreateAsync(Token token, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(token);
        if (IsTracked(token) || token.Application is not null || token.Authorization is not null)
        {
            await WriteDeferredAsync(cancellationToken);
            await base.CreateAsync(token, cancellationToken);
            return;
        }
        token.Id ??= Guid.NewGuid().ToString();
        if (_deferNextCreate && _unwritten is null)
        {
            _deferNextCreate = false;
            _unwritten = token;
            Remember(token);
            return;
        }
        await WriteDeferredAsync(cancellationToken);
        await InsertAsync(token, cancellationToken);
    }

    private async ValueTask InsertAsync(Token token, CancellationToken cancellationToken)
    {
        var audit = AuditInterceptor.TokenEvent(token, added: true, revoked: false, ClientIdOf(token), http.HttpContext, clock.GetUtcNow());
        await RowStatements.For<Token>(db).InsertAsync(db, token, audit, cancellationToken);
        Remember(token);
    }

    public override async ValueTask UpdateAsync(Token token, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(token);
        if (ReferenceEquals(token, _unwritten))
        {
            // Its payload: the whole row in one INSERT.
            await WriteDeferredAsync(cancellationToken);
            return;
        }
        await WriteDeferredAsync(cancellationToken);
        if (IsTracked(token))
        {
            await base.UpdateAsync(token, cancellationToken);
            return;
        }
        var revoked = token.Status == OpenIddictConstants.Statuses.Revoked
            && _storedStatus.TryGetValue(token.Id!, out var was) && was != OpenIddictConstants.Statuses.Revoked;
        var audit = AuditInterceptor.TokenEvent(token, added: false, revoked, ClientIdOf(token), http.HttpContext, clock.GetUtcNow());
        if (!await RowStatements.For<Token>(db).UpdateAsync(db, token, audit, cancellationToken))
        {
            // The entity now holds changes the row does not: a later read in this request asks the database again.
            Forget(token);
            throw new OpenIddictExceptions.ConcurrencyException("The token was changed or removed by another request since it was read.");
        }
        Remember(token);
    }

    public override async ValueTask<Token?> FindByIdAsync(string identifier, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(identifier);
        // An entry still waiting for its payload is remembered, so no lookup needs its row written first.
        if (_read.TryGetValue(identifier, out var known)) return known;
        await db.KeepOpenAsync(cancellationToken);
        return Remember(await ById.RunAsync(db, identifier, cancellationToken));
    }

    public override async ValueTask<Token?> FindByReferenceIdAsync(string identifier, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(identifier);
        // A remembered token still answers to the reference only if its reference did not change since.
        if (_readByReference.TryGetValue(identifier, out var known) && known.ReferenceId == identifier) return known;
        await db.KeepOpenAsync(cancellationToken);
        return Remember(await ByReferenceId.RunAsync(db, identifier, cancellationToken));
    }

    public override ValueTask<string?> GetApplicationIdAsync(Token token, CancellationToken cancellationToken) =>
        ValueTask.FromResult(token.Application?.Id ?? token.ApplicationId);

    public override ValueTask<string?> GetAuthorizationIdAsync(Token token, CancellationToken cancellationToken) =>
        ValueTask.FromResult(token.Authorization?.Id ?? token.AuthorizationId);

    public override async ValueTask SetApplicationIdAsync(Token token, string? identifier, CancellationToken cancellationToken)
    {
        if (IsTracked(token)) await base.SetApplicationIdAsync(token, identifier, cancellationToken);
        else (token.Application, token.ApplicationId) = (null, string.IsNullOrEmpty(identifier) ? null : identifier);
    }

    public override async ValueTask SetAuthorizationIdAsync(Token token, string? identifier, CancellationToken cancellationToken)
    {
        if (IsTracked(token)) await base.SetAuthorizationIdAsync(token, identifier, cancellationToken);
        else (token.Authorization, token.AuthorizationId) = (null, string.IsNullOrEmpty(identifier) ? null : identifier);
    }

    public override async ValueTask DeleteAsync(Token token, CancellationToken cancellationToken)
    {
        await WriteDeferredAsync(cancellationToken);
        Forget(token);
        await base.DeleteAsync(token, cancellationToken);
    }

    // Bulk revocations change rows behind the remembered entities: forget them. They also renew each row's concurrency
    // token, which OpenIddict's set only the status of: a request that read a token before a device's logout could
    // otherwise still redeem it afterwards (its UPDATE checks the concurrency token alone), writing "redeemed" over
    // "revoked" and issuing tokens to a device already logged out (GrantTransactionTests).
    public override ValueTask<long> RevokeByAuthorizationIdAsync(string identifier, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(identifier);
        return RevokeWhereAsync(t => t.AuthorizationId == identifier, cancellationToken);
    }

    public override ValueTask<long> RevokeByApplicationIdAsync(string identifier, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(identifier);
        return RevokeWhereAsync(t => t.ApplicationId == identifier, cancellationToken);
    }

    public override ValueTask<long> RevokeBySubjectAsync(string subject, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(subject);
        return RevokeWhereAsync(t => t.Subject == subject, cancellationToken);
    }

    private async ValueTask<long> RevokeWhereAsync(System.Linq.Expressions.Expression<Func<Token, bool>> filter, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(filter);
        await WriteDeferredAsync(cancellationToken);
        Forget();
        var renewed = Guid.NewGuid().ToString();
        return await db.Tokens.Where(filter).Where(t => t.Status != OpenIddictConstants.Statuses.Revoked)
            .ExecuteUpdateAsync(u => u.SetProperty(t => t.Status, OpenIddictConstants.Statuses.Revoked)
                .SetProperty(t => t.ConcurrencyToken, renewed), cancellationToken);
    }

    // The filtered revocation stays OpenIddict's (it sets only the status); forgetting the remembered tokens is enough for it.
    public override async ValueTask<long> RevokeAsync(string? subject, string? client, string? status, string? type, CancellationToken cancellationToken = default)
    {
        await WriteDeferredAsync(cancellationToken);
        Forget();
        return await base.RevokeAsync(subject, client, status, type, cancellationToken);
    }

    private string? ClientIdOf(Token token) =>
        token.Application?.ClientId ?? (token.ApplicationId is { } id ? clients.FindApplicationById(id)?.ClientId : null);

    private Token? Remember(TokenRow? row)
    {
        if (row is null) return null;
        // The token keeps only its foreign key, as every token this store hands out; the row goes to the request's
        // authorizations, where the authorization store finds it.
        row.Token.Authorization = null;
        if (row.Authorization is { Id: not null } authorization) authorizations.RememberIfNew(authorization);
        if (row.Account is { } account) accounts.Remember(account);
        return Remember(row.Token);
    }

    private Token? Remember(Token? token)
    {
        if (token?.Id is { } id)
        {
            _read[id] = token;
            _storedStatus[id] = token.Status;
        }
        if (token?.ReferenceId is { } reference) _readByReference[reference] = token;
        return token;
    }

    private void Forget(Token token)
    {
        if (token.Id is not null)
        {
            _read.Remove(token.Id);
            _storedStatus.Remove(token.Id);
        }
        if (token.ReferenceId is not null) _readByReference.Remove(token.ReferenceId);
    }

    private void Forget()
    {
        _read.Clear();
        _readByReference.Clear();
        _storedStatus.Clear();
    }

    private bool IsTracked(Token token) => db.Entry(token).State != EntityState.Detached;
}
