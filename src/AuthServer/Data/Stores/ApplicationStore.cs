using AuthServer.Clients;
using AuthServer.Data.Entities;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Options;
using OpenIddict.EntityFrameworkCore;

namespace AuthServer.Data.Stores;

/// <summary>
/// OpenIddict's EF Core application store, answering lookups by client id and by id from <see cref="ClientStore"/>'s
/// snapshot: every protocol request looks its client up, often several times, and clients change rarely. Each caller
/// gets its own copy, so an edit of one (which goes through this store) never touches the snapshot, and every write
/// through this store refreshes the snapshot, this node's and the other nodes' (<see cref="ClientStore.ChangedAsync"/>):
/// at once, or inside a transaction (the admin pages' edits) once it has committed, so the reload reads the change and
/// until then every request sees what the database holds.
/// </summary>
public sealed class ApplicationStore(IMemoryCache cache, IOpenIddictEntityFrameworkCoreContext context,
    IOptionsMonitor<OpenIddictEntityFrameworkCoreOptions> options, ClientStore clients, AuthServerDbContext db)
    : OpenIddictEntityFrameworkCoreApplicationStore<Application, Authorization, Token, string>(cache, context, options)
{
    public override async ValueTask<Application?> FindByClientIdAsync(string identifier, CancellationToken cancellationToken) =>
        clients.IsLoaded ? clients.FindApplication(identifier)?.Copy() : await base.FindByClientIdAsync(identifier, cancellationToken);

    public override async ValueTask<Application?> FindByIdAsync(string identifier, CancellationToken cancellationToken) =>
        clients.IsLoaded ? clients.FindApplicationById(identifier)?.Copy() : await base.FindByIdAsync(identifier, cancellationToken);

    public override async ValueTask CreateAsync(Application application, CancellationToken cancellationToken)
    {
        await base.CreateAsync(application, cancellationToken);
        await db.AfterCommitAsync(clients.ChangedAsync, cancellationToken);
    }

    public override async ValueTask UpdateAsync(Application application, CancellationToken cancellationToken)
    {
        await base.UpdateAsync(application, cancellationToken);
        await db.AfterCommitAsync(clients.ChangedAsync, cancellationToken);
    }

    public override async ValueTask DeleteAsync(Application application, CancellationToken cancellationToken)
    {
        await base.DeleteAsync(application, cancellationToken);
        await db.AfterCommitAsync(clients.ChangedAsync, cancellationToken);
    }
}
