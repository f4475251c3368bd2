using AuthServer.Tokens;
using OpenIddict.Abstractions;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace AuthServer.Clients;

/// <summary>
/// Upserts the <c>Clients</c> configuration section into OpenIddict's applications at start-up. For a client listed
/// there the configuration wins: whatever the admin pages changed on it is replaced by the configured definition at
/// the next start.
/// </summary>
public sealed class ClientSeeder(IOpenIddictApplicationManager applications, IConfiguration configuration, ScopeCatalog scopes, ILogger<ClientSeeder> logger)
{
    public const string Section = "Clients";

    /// <summary>The clients the configuration declares: the admin pages mark them, since start-up applies them again.</summary>
    public static IReadOnlySet<string> ConfiguredIds(IConfiguration configuration) =>
        configuration.GetSection(Section).GetChildren().Select(c => c.Key).ToHashSet(StringComparer.Ordinal);

    public async Task SeedAsync(CancellationToken cancellationToken = default)
    {
        var definitions = configuration.GetSection(Section).Get<Dictionary<string, ClientDefinition>>() ?? [];
        foreach (var (clientId, definition) in definitions)
        {
            // A broken client definition stops start-up with a message naming it, rather than failing at first use.
            if (ClientRules.Validate(definition, scopes, withSecrets: true).FirstOrDefault() is { } broken)
                throw new InvalidOperationException($"Clients:{clientId}: {broken.Message}");
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
            DisplayName = string.IsNullOrEmpty(definition.DisplayName) ? clientId : definition.DisplayName,
            LogoUri = string.IsNullOrEmpty(definition.LogoUri) ? null : definition.LogoUri,
            Disabled = definition.Disabled,
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
            AccessTokenLifetime = definition.AccessTokenLifetime,
            IdentityTokenLifetime = definition.IdentityTokenLifetime,
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

        // A disabled client keeps its grant and scope permissions, so enabling it again restores what it had, but
        // no endpoint permission: OpenIddict then refuses it at every endpoint with unauthorized_client.
        var permissions = descriptor.Permissions;
        var endpoints = new HashSet<string>(StringComparer.Ordinal) { Permissions.Endpoints.Token, Permissions.Endpoints.Revocation };
        if (definition.Type == ClientType.Confidential) endpoints.Add(Permissions.Endpoints.Introspection);
        foreach (var grant in definition.GrantTypes)
        {
            permissions.Add(Permissions.Prefixes.GrantType + grant);
            if (grant == GrantTypes.DeviceCode) endpoints.Add(Permissions.Endpoints.DeviceAuthorization);
            if (grant == GrantTypes.AuthorizationCode)
            {
                endpoints.Add(Permissions.Endpoints.Authorization);
                endpoints.Add(Permissions.Endpoints.EndSession);
                permissions.Add(Permissions.ResponseTypes.Code);
            }
        }
        if (!definition.Disabled) permissions.UnionWith(endpoints);
        foreach (var scope in definition.Scopes) permissions.Add(Permissions.Prefixes.Scope + scope);
        return descriptor;
    }
}
