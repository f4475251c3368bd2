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
    private volatile FrozenSet<string> _corsOrigins = FrozenSet<string>.Empty;

    public Client? Find(string clientId) => _clients.GetValueOrDefault(clientId);

    /// <summary>Whether any client registered <paramref name="origin"/> (scheme://host[:port], exact) for CORS.</summary>
    public bool IsAllowedOrigin(string origin) => _corsOrigins.Contains(origin);

    public async Task ReloadAsync(CancellationToken cancellationToken = default)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AuthServerDbContext>();
        var clients = await db.Clients.AsNoTracking().ToListAsync(cancellationToken);
        _clients = clients.ToFrozenDictionary(c => c.ClientId, StringComparer.Ordinal);
        _corsOrigins = clients.SelectMany(c => c.AllowedCorsOrigins).ToFrozenSet(StringComparer.OrdinalIgnoreCase);
    }
}
