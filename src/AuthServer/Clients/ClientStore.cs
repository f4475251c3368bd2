using System.Collections.Frozen;
using System.Collections.Immutable;
using AuthServer.Cluster;
using AuthServer.Data.Entities;
using OpenIddict.Abstractions;

namespace AuthServer.Clients;

/// <summary>
/// The registered clients, held in memory: every poll and every CORS check looks at its client, and that must not
/// cost a query. OpenIddict's applications are the source of truth; <see cref="ChangedAsync"/> refreshes the snapshot
/// after a change and tells the other nodes, which reload theirs.
/// </summary>
public sealed class ClientStore(IServiceScopeFactory scopes, ClusterEvents events)
{
    private volatile FrozenDictionary<string, Client> _clients = FrozenDictionary<string, Client>.Empty;
    private volatile FrozenSet<string> _corsOrigins = FrozenSet<string>.Empty;
    private volatile FrozenDictionary<string, Application> _byClientId = FrozenDictionary<string, Application>.Empty;
    private volatile FrozenDictionary<string, Application> _byId = FrozenDictionary<string, Application>.Empty;
    private volatile bool _loaded;
    private volatile int _version;

    /// <summary>Whether the snapshot was read at least once (before that, lookups go to the database).</summary>
    public bool IsLoaded => _loaded;

    /// <summary>Moves on every reload, so what is derived from the clients (the CSP's form-action) knows to rebuild.</summary>
    public int Version => _version;

    /// <summary>The application row behind a client, for <see cref="Data.Stores.ApplicationStore"/>; never modify it.</summary>
    public Application? FindApplication(string clientId) => _byClientId.GetValueOrDefault(clientId);

    public Application? FindApplicationById(string id) => _byId.GetValueOrDefault(id);

    public Client? Find(string? clientId) => clientId is null ? null : _clients.GetValueOrDefault(clientId);

    /// <summary>Every client, by client id.</summary>
    public IEnumerable<Client> All => _clients.Values.OrderBy(c => c.ClientId, StringComparer.Ordinal);

    /// <summary>Whether any client registered <paramref name="origin"/> (scheme://host[:port], exact) for CORS.</summary>
    public bool IsAllowedOrigin(string origin) => _corsOrigins.Contains(origin);

    /// <summary>The client an application is, as OpenIddict's manager reads it; null for one without a client id.</summary>
    public static async Task<Client?> ReadAsync(IOpenIddictApplicationManager manager, object application, CancellationToken cancellationToken)
    {
        if (await manager.GetClientIdAsync(application, cancellationToken) is not { } clientId) return null;
        return ClientSettings.FromApplication(
            clientId,
            await manager.GetDisplayNameAsync(application, cancellationToken),
            await manager.GetClientTypeAsync(application, cancellationToken),
            await manager.GetConsentTypeAsync(application, cancellationToken),
            await manager.GetPermissionsAsync(application, cancellationToken),
            await manager.GetRedirectUrisAsync(application, cancellationToken),
            await manager.GetPostLogoutRedirectUrisAsync(application, cancellationToken),
            (ImmutableDictionary<string, string>)await manager.GetSettingsAsync(application, cancellationToken));
    }

    private readonly SemaphoreSlim _reloading = new(1, 1);

    /// <summary>After an application write this node committed: reload, then tell the other nodes to reload too.</summary>
    public async Task ChangedAsync(CancellationToken cancellationToken = default)
    {
        await ReloadAsync(cancellationToken);
        await events.PublishAsync(ClusterEvent.ClientsChanged);
    }

    /// <summary>
    /// Reads every application and swaps the snapshot in. Reloads run one at a time, so a reload that read before a
    /// change can never overwrite one that read after it.
    /// </summary>
    public async Task ReloadAsync(CancellationToken cancellationToken = default)
    {
        await _reloading.WaitAsync(cancellationToken);
        try
        {
            await ReloadCoreAsync(cancellationToken);
        }
        finally
        {
            _reloading.Release();
        }
    }

    private async Task ReloadCoreAsync(CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var manager = scope.ServiceProvider.GetRequiredService<IOpenIddictApplicationManager>();
        var clients = new List<Client>();
        var rows = new List<Application>();
        await foreach (var application in manager.ListAsync(count: null, offset: null, cancellationToken))
        {
            if (await ReadAsync(manager, application, cancellationToken) is not { } client) continue;
            clients.Add(client);
            rows.Add(((Application)application).Copy());
        }
        _clients = clients.ToFrozenDictionary(c => c.ClientId, StringComparer.Ordinal);
        _corsOrigins = clients.SelectMany(c => c.AllowedCorsOrigins).ToFrozenSet(StringComparer.OrdinalIgnoreCase);
        _byClientId = rows.ToFrozenDictionary(a => a.ClientId!, StringComparer.Ordinal);
        _byId = rows.ToFrozenDictionary(a => a.Id!, StringComparer.Ordinal);
        _loaded = true;
        _version++;
    }
}
