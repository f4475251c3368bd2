namespace AuthServer.Data.Entities;

public enum ClientType
{
    /// <summary>Cannot keep a secret (TVs, CLIs, phone apps, browser apps): identified by client_id alone.</summary>
    Public,

    /// <summary>Authenticates with a secret (RFC 6749 §2.1).</summary>
    Confidential,
}

/// <summary>A registered OAuth client. Declared in configuration and upserted at start-up.</summary>
public sealed class Client
{
    public required string ClientId { get; set; }
    public required string DisplayName { get; set; }
    public ClientType Type { get; set; }

    /// <summary>
    /// Hashes of the valid secrets (see <see cref="AuthServer.Clients.ClientSecretHasher"/>). Several may be valid at
    /// once so a secret can be rotated without downtime. Never the secrets themselves.
    /// </summary>
    public List<string> SecretHashes { get; set; } = [];

    public List<string> GrantTypes { get; set; } = [];
    public List<string> Scopes { get; set; } = [];
    public List<string> RedirectUris { get; set; } = [];
    public List<string> PostLogoutRedirectUris { get; set; } = [];
    public List<string> AllowedCorsOrigins { get; set; } = [];

    /// <summary>Lifetime of a device code, RFC 8628 §3.2 <c>expires_in</c>.</summary>
    public int DeviceCodeLifetimeSeconds { get; set; } = 300;

    /// <summary>Minimum polling interval, RFC 8628 §3.2 <c>interval</c>.</summary>
    public int PollIntervalSeconds { get; set; } = 5;

    /// <summary>First-party clients are operated by us (the QR page, the phone app).</summary>
    public bool FirstParty { get; set; }

    public DateTimeOffset UpdatedAt { get; set; }

    /// <summary>
    /// Number matching against remote phishing (RFC 8628 §5.4): after the scan the waiting screen shows a 2-digit
    /// number, and the phone must pick it among three to approve. For clients that follow the push stream.
    /// </summary>
    public bool NumberMatching { get; set; }

    /// <summary>Every token request must carry a DPoP proof (RFC 9449), so tokens are always bound to a key.</summary>
    public bool RequireDpop { get; set; }

    /// <summary>A refresh token family ends this long after sign-in, however often it is used (RFC 9700 §4.14.2).</summary>
    public int RefreshTokenAbsoluteLifetimeSeconds { get; set; } = 30 * 24 * 3600;

    /// <summary>A refresh token unused for this long expires: an abandoned device stops being signed in.</summary>
    public int RefreshTokenIdleLifetimeSeconds { get; set; } = 14 * 24 * 3600;

    /// <summary>
    /// The algorithm of this client's ID tokens (OIDC Dynamic Client Registration §2 <c>id_token_signed_response_alg</c>),
    /// or null for the server's default (<c>Tokens:IdentityTokenAlgorithm</c>, RS256 as OIDC Core §3.1.3.7 expects).
    /// </summary>
    public string? IdTokenSignedResponseAlg { get; set; }
}
