using AuthServer.Data.Entities;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Options;
using OpenIddict.Abstractions;
using OpenIddict.EntityFrameworkCore;

namespace AuthServer.Data.Stores;

/// <summary>
/// OpenIddict's EF Core authorization store with the same single-statement hot paths as <see cref="TokenStore"/>:
/// a linked device is created at every approval and read on every request that carries one of its tokens
/// (authorization entry validation), so both are one statement, and its client is its own foreign-key column. As
/// there, an authorization read in a request is remembered for the rest of it, and a revocation commits with its audit
/// event (<see cref="AuditInterceptor.RevocationEvent"/>). The rows read are kept in <see cref="ReadAuthorizations"/>,
/// which the token store fills too when it reads a token together with its authorization.
/// </summary>
public sealed class AuthorizationStore(IMemoryCache cache, IOpenIddictEntityFrameworkCoreContext context,
    IOptionsMonitor<OpenIddictEntityFrameworkCoreOptions> options, AuthServerDbContext db, Clients.ClientStore clients,
    IHttpContextAccessor http, TimeProvider clock, ReadAuthorizations read)
    : OpenIddictEntityFrameworkCoreAuthorizationStore<Authorization, Application, Token, string>(cache, context, options)
{
    private static readonly CompiledLookup<Authorization> ById =
        new((db, id, _) => db.Authorizations.AsNoTracking().FirstOrDefault(a => a.Id == id));

    public override async ValueTask CreateAsync(Authorization authorization, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(authorization);
        if (IsTracked(authorization) || authorization.Application is not null)
        {
            await base.CreateAsync(authorization, cancellationToken);
            return;
        }
        authorization.Id ??= Guid.NewGuid().ToString();
        await RowStatements.For<Authorization>(db).InsertAsync(db, authorization, audit: null, cancellationToken);
        Remember(authorization);
    }

    public override async ValueTask UpdateAsync(Authorization authorization, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(authorization);
        if (IsTracked(authorization))
        {
            await base.UpdateAsync(authorization, cancellationToken);
            return;
        }
        var audit = authorization.Status == OpenIddictConstants.Statuses.Revoked
            && read.StoredStatusIs(authorization.Id!, out var was) && was != OpenIddictConstants.Statuses.Revoked
                ? AuditInterceptor.RevocationEvent(authorization, authorization.ApplicationId is { } app ? clients.FindApplicationById(app)?.ClientId : null, http.HttpContext, clock.GetUtcNow())
                : null;
        if (!await RowStatements.For<Authorization>(db).UpdateAsync(db, authorization, audit, cancellationToken))
        {
            // The entity now holds changes the row does not: a later read in this request asks the database again.
            if (authorization.Id is not null) read.Forget(authorization.Id);
            throw new OpenIddictExceptions.ConcurrencyException("The authorization was changed or removed by another request since it was read.");
        }
        Remember(authorization);
    }

    public override async ValueTask<Authorization?> FindByIdAsync(string identifier, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(identifier);
        if (read.TryGet(identifier, out var known)) return known;
        await db.KeepOpenAsync(cancellationToken);
        var found = await ById.RunAsync(db, identifier, cancellationToken);
        if (found is not null) Remember(found);
        return found;
    }

    public override ValueTask<string?> GetApplicationIdAsync(Authorization authorization, CancellationToken cancellationToken) =>
        ValueTask.FromResult(authorization.Application?.Id ?? authorization.ApplicationId);

    public override async ValueTask SetApplicationIdAsync(Authorization authorization, string? identifier, CancellationToken cancellationToken)
    {
        if (IsTracked(authorization)) await base.SetApplicationIdAsync(authorization, identifier, cancellationToken);
        else (authorization.Application, authorization.ApplicationId) = (null, string.IsNullOrEmpty(identifier) ? null : identifier);
    }

    public override async ValueTask DeleteAsync(Authorization authorization, CancellationToken cancellationToken)
    {
        if (authorization.Id is not null) read.Forget(authorization.Id);
        await base.DeleteAsync(authorization, cancellationToken);
    }

    // Bulk revocations change rows behind the remembered entities: forget them.
    public override async ValueTask<long> RevokeAsync(string? subject, string? client, string? status, string? type, CancellationToken cancellationToken = default)
    {
        read.Clear();
        return await base.RevokeAsync(subject, client, status, type, cancellationToken);
    }

    public override async ValueTask<long> RevokeByApplicationIdAsync(string identifier, CancellationToken cancellationToken = default)
    {
        read.Clear();
        return await base.RevokeByApplicationIdAsync(identifier, cancellationToken);
    }

    public override async ValueTask<long> RevokeBySubjectAsync(string subject, CancellationToken cancellationToken = default)
    {
        read.Clear();
        return await base.RevokeBySubjectAsync(subject, cancellationToken);
    }

    private void Remember(Authorization authorization) => read.Remember(authorization);

    private bool IsTracked(Authorization authorization) => db.Entry(authorization).State != EntityState.Detached;
}
