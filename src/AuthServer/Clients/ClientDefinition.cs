namespace AuthServer.Clients;

/// <summary>
/// One entry of the <c>Clients</c> configuration section, keyed by client id. Entries are upserted into the database
/// at start-up, so an operator can register clients in configuration.
/// </summary>
public sealed class ClientDefinition
{
    public string? DisplayName { get; set; }

    /// <summary>An https URL of the client's logo, shown on the consent page (OIDC Dynamic Client Registration's <c>logo_uri</c>).</summary>
    public string? LogoUri { get; set; }

    public ClientType Type { get; set; } = ClientType.Public;

    /// <summary>A disabled client keeps its registration, but every endpoint refuses it (<c>unauthorized_client</c>).</summary>
    public bool Disabled { get; set; }

    /// <summary>Secret hashes in the form produced by <c>AuthServer hash-secret</c>.</summary>
    public List<string> SecretHashes { get; set; } = [];

    /// <summary>Plain secrets, hashed at start-up and never stored. Meant for Development settings only.</summary>
    public List<string> Secrets { get; set; } = [];

    public List<string> GrantTypes { get; set; } = [];
    public List<string> Scopes { get; set; } = [];
    public List<string> RedirectUris { get; set; } = [];
    public List<string> PostLogoutRedirectUris { get; set; } = [];
    public List<string> AllowedCorsOrigins { get; set; } = [];
    public TimeSpan DeviceCodeLifetime { get; set; } = TimeSpan.FromSeconds(300);
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(5);
    public bool FirstParty { get; set; }
    public bool NumberMatching { get; set; }
    public bool RequireDpop { get; set; }
    public TimeSpan RefreshTokenAbsoluteLifetime { get; set; } = TimeSpan.FromDays(30);
    public TimeSpan RefreshTokenIdleLifetime { get; set; } = TimeSpan.FromDays(14);

    /// <summary>This client's access and ID token lifetimes; unset means <c>Tokens:AccessTokenLifetime</c> and <c>Tokens:IdentityTokenLifetime</c>.</summary>
    public TimeSpan? AccessTokenLifetime { get; set; }
    public TimeSpan? IdentityTokenLifetime { get; set; }

    /// <summary>ES256 or RS256; unset means the server's default. An ES256 signature costs a small part of an RS256 one.</summary>
    public string? IdTokenSignedResponseAlg { get; set; }
}
