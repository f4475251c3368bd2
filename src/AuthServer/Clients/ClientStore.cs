using System.Collections.Frozen;
using System.Collections.Immutable;
using OpenIddict.Abstractions;

namespace AuthServer.Clients;

/// <summary>
/// The registered clients, held in memory: every poll and every CORS check looks at its client, and that must not
/// cost a query. OpenIddict's applications are the source of truth; <see cref="ReloadAsync"/> refreshes the snapshot
/// after a change.
/// </summary>
public sealed class ClientStore(IServiceScopeFactory scopes)
{
    private volatile FrozenDictionary<string, Client> _clients = FrozenDictionary<string, Client>.Empty;
    private volatile FrozenSet<string> _corsOrigins = FrozenSet<string>.Empty;

    public Client? Find(string? clientId) => clientId is null ? null : _clients.GetValueOrDefault(clientId);

    /// <summary>Whether any client registered <paramref name="origin"/> (scheme://host[:port], exact) for CORS.</summary>
    public bool IsAllowedOrigin(string origin) => _corsOrigins.Contains(origin);

    public async Task ReloadAsync(CancellationToken cancellationToken = default)
    {
        await using var scope = scopes.CreateAsyncScope();
        var manager = scope.ServiceProvider.GetRequiredService<IOpenIddictApplicationManager>();
        var clients = new List<Client>();
        await foreach (var application in manager.ListAsync(count: null, offset: null, cancellationToken))
        {
            if (await manager.GetClientIdAsync(application, cancellationToken) is not { } clientId) continue;
            clients.Add(ClientSettings.FromApplication(
                clientId,
                await manager.GetDisplayNameAsync(application, cancellationToken),
                await manager.GetClientTypeAsync(application, cancellationToken),
                await manager.GetConsentTypeAsync(application, cancellationToken),
                await manager.GetPermissionsAsync(application, cancellationToken),
                await manager.GetRedirectUrisAsync(application, cancellationToken),
                await manager.GetPostLogoutRedirectUrisAsync(application, cancellationToken),
                (ImmutableDictionary<string, string>)await manager.GetSettingsAsync(application, cancellationToken)));
        }
        _clients = clients.ToFrozenDictionary(c => c.ClientId, StringComparer.Ordinal);
        _corsOrigins = clients.SelectMany(c => c.AllowedCorsOrigins).ToFrozenSet(StringComparer.OrdinalIgnoreCase);
    }
}
