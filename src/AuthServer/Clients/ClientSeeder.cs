using AuthServer.Tokens;
using OpenIddict.Abstractions;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace AuthServer.Clients;

/// <summary>Upserts the <c>Clients</c> configuration section into OpenIddict's applications at start-up.</summary>
public sealed class ClientSeeder(IOpenIddictApplicationManager applications, IConfiguration configuration, ScopeCatalog scopes, ILogger<ClientSeeder> logger)
{
    public const string Section = "Clients";

    public async Task SeedAsync(CancellationToken cancellationToken = default)
    {
        var definitions = configuration.GetSection(Section).Get<Dictionary<string, ClientDefinition>>() ?? [];
        foreach (var (clientId, definition) in definitions)
        {
            Validate(clientId, definition, scopes);
            var descriptor = Describe(clientId, definition);
            if (await applications.FindByClientIdAsync(clientId, cancellationToken) is { } existing)
                await applications.UpdateAsync(existing, descriptor, cancellationToken);
            else
                await applications.CreateAsync(descriptor, cancellationToken);
        }
        logger.LogInformation("Registered {Count} clients from configuration", definitions.Count);
    }

    /// <summary>
    /// The OpenIddict application for a definition. OpenIddict enforces the permissions (endpoints, grant types,
    /// scopes, response types); our own settings ride along in <see cref="OpenIddictApplicationDescriptor.Settings"/>.
    /// </summary>
    public static OpenIddictApplicationDescriptor Describe(string clientId, ClientDefinition definition)
    {
        var client = new Client
        {
            ClientId = clientId,
            DisplayName = definition.DisplayName ?? clientId,
            Type = definition.Type,
            FirstParty = definition.FirstParty,
            GrantTypes = definition.GrantTypes,
            Scopes = definition.Scopes,
            AllowedCorsOrigins = definition.AllowedCorsOrigins,
            DeviceCodeLifetime = definition.DeviceCodeLifetime,
            PollInterval = definition.PollInterval,
            NumberMatching = definition.NumberMatching,
            RequireDpop = definition.RequireDpop,
            RefreshTokenAbsoluteLifetime = definition.RefreshTokenAbsoluteLifetime,
            RefreshTokenIdleLifetime = definition.RefreshTokenIdleLifetime,
            // Empty (a JSON null or "") means unset, as in a configuration override that removes it.
            IdTokenSignedResponseAlg = string.IsNullOrEmpty(definition.IdTokenSignedResponseAlg) ? null : definition.IdTokenSignedResponseAlg,
        };
        var descriptor = new OpenIddictApplicationDescriptor
        {
            ClientId = clientId,
            DisplayName = client.DisplayName,
            ClientType = definition.Type == ClientType.Confidential ? ClientTypes.Confidential : ClientTypes.Public,
            // First-party clients skip consent; OpenIddict records that as an implicit consent type.
            ConsentType = definition.FirstParty ? ConsentTypes.Implicit : ConsentTypes.Explicit,
            ClientSecret = definition.Type == ClientType.Confidential
                ? ClientManager.JoinHashes([.. definition.SecretHashes, .. definition.Secrets.Select(ClientSecretHasher.Hash)])
                : null,
        };
        foreach (var uri in definition.RedirectUris) descriptor.RedirectUris.Add(new Uri(uri));
        foreach (var uri in definition.PostLogoutRedirectUris) descriptor.PostLogoutRedirectUris.Add(new Uri(uri));
        foreach (var (key, value) in ClientSettings.ToSettings(client)) descriptor.Settings[key] = value;

        var permissions = descriptor.Permissions;
        permissions.Add(Permissions.Endpoints.Token);
        permissions.Add(Permissions.Endpoints.Revocation);
        if (definition.Type == ClientType.Confidential) permissions.Add(Permissions.Endpoints.Introspection);
        foreach (var grant in definition.GrantTypes)
        {
            permissions.Add(Permissions.Prefixes.GrantType + grant);
            if (grant == GrantTypes.DeviceCode) permissions.Add(Permissions.Endpoints.DeviceAuthorization);
            if (grant == GrantTypes.AuthorizationCode)
            {
                permissions.Add(Permissions.Endpoints.Authorization);
                permissions.Add(Permissions.Endpoints.EndSession);
                permissions.Add(Permissions.ResponseTypes.Code);
            }
        }
        foreach (var scope in definition.Scopes) permissions.Add(Permissions.Prefixes.Scope + scope);
        return descriptor;
    }

    /// <summary>A broken client definition stops start-up with a message naming it, rather than failing at first use.</summary>
    private static void Validate(string clientId, ClientDefinition definition, ScopeCatalog scopes)
    {
        void Fail(string why) => throw new InvalidOperationException($"Clients:{clientId}: {why}");

        if (definition.Type == ClientType.Confidential && definition.SecretHashes.Count + definition.Secrets.Count == 0)
            Fail("a confidential client needs at least one secret hash.");
        if (definition.Type == ClientType.Public && definition.SecretHashes.Count + definition.Secrets.Count > 0)
            Fail("a public client cannot have secrets.");
        if (definition.SecretHashes.FirstOrDefault(h => !ClientSecretHasher.IsWellFormed(h)) is { } bad)
            Fail($"'{bad}' is not a secret hash; create one with 'hash-secret'.");
        if (definition.DeviceCodeLifetime < TimeSpan.FromSeconds(1) || definition.DeviceCodeLifetime > TimeSpan.FromHours(1))
            Fail("DeviceCodeLifetime must be between 1 second and 1 hour.");
        if (definition.PollInterval < TimeSpan.FromSeconds(1) || definition.PollInterval > TimeSpan.FromMinutes(1))
            Fail("PollInterval must be between 1 second and 1 minute.");
        if (definition.RefreshTokenIdleLifetime <= TimeSpan.Zero || definition.RefreshTokenIdleLifetime > definition.RefreshTokenAbsoluteLifetime)
            Fail("RefreshTokenIdleLifetime must be positive and no longer than RefreshTokenAbsoluteLifetime.");
        foreach (var scope in definition.Scopes.Where(s => !scopes.IsKnown(s)))
            Fail($"scope '{scope}' is not declared in the Scopes section.");
        foreach (var grant in definition.GrantTypes.Where(g => !GrantTypes.Supported.Contains(g)))
            Fail($"grant type '{grant}' is not supported.");
        if (definition.IdTokenSignedResponseAlg is { Length: > 0 } alg && !SigningKeyStore.Algorithms.Contains(alg))
            Fail($"IdTokenSignedResponseAlg must be one of {string.Join(", ", SigningKeyStore.Algorithms)}.");
        foreach (var origin in definition.AllowedCorsOrigins)
            if (!Uri.TryCreate(origin, UriKind.Absolute, out var parsed) || parsed.GetLeftPart(UriPartial.Authority) != origin)
                Fail($"'{origin}' is not an origin (scheme://host[:port], no path or trailing slash).");
        foreach (var uri in definition.RedirectUris.Concat(definition.PostLogoutRedirectUris))
            if (!Uri.TryCreate(uri, UriKind.Absolute, out var parsed) || parsed.Fragment.Length > 0)
                Fail($"'{uri}' is not an absolute URI without fragment (RFC 6749 §3.1.2).");
    }
}
