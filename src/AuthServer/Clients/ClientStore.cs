using System.Collections.Frozen;
using AuthServer.Data;
using AuthServer.Data.Entities;
using Microsoft.EntityFrameworkCore;

namespace AuthServer.Clients;

/// <summary>
/// The registered clients, held in memory: every poll authenticates its client, and that must not cost a query.
/// The database is the source of truth; <see cref="ReloadAsync"/> refreshes the snapshot after a change.
/// </summary>
public sealed class ClientStore(IServiceScopeFactory scopes)
{
    private volatile FrozenDictionary<string, Client> _clients = FrozenDictionary<string, Client>.Empty;

    public Client? Find(string clientId) => _clients.GetValueOrDefault(clientId);

    public IEnumerable<Client> All => _clients.Values;

    public async Task ReloadAsync(CancellationToken cancellationToken = default)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AuthServerDbContext>();
        var clients = await db.Clients.AsNoTracking().ToListAsync(cancellationToken);
        _clients = clients.ToFrozenDictionary(c => c.ClientId, StringComparer.Ordinal);
    }
}
