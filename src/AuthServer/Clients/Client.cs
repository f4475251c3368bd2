namespace AuthServer.Clients;

public enum ClientType
{
    /// <summary>Cannot keep a secret (TVs, CLIs, phone apps, browser apps): identified by client_id alone.</summary>
    Public,

    /// <summary>Authenticates with a secret (RFC 6749 §2.1).</summary>
    Confidential,
}

/// <summary>
/// A registered client as the hot paths read it: a snapshot of its OpenIddict application and of our settings on it
/// (<see cref="ClientSettings"/>). OpenIddict's application row is the source of truth.
/// </summary>
public sealed record Client
{
    public required string ClientId { get; init; }
    public required string DisplayName { get; init; }
    public string? LogoUri { get; init; }
    public ClientType Type { get; init; }

    /// <summary>Refused everywhere: OpenIddict's endpoints see no endpoint permission, our own see this flag.</summary>
    public bool Disabled { get; init; }
    public IReadOnlyList<string> GrantTypes { get; init; } = [];
    public IReadOnlyList<string> Scopes { get; init; } = [];
    public IReadOnlyList<string> RedirectUris { get; init; } = [];
    public IReadOnlyList<string> PostLogoutRedirectUris { get; init; } = [];
    public IReadOnlyList<string> AllowedCorsOrigins { get; init; } = [];

    /// <summary>Lifetime of a device code, RFC 8628 §3.2 <c>expires_in</c>.</summary>
    public TimeSpan DeviceCodeLifetime { get; init; } = ClientSettings.DefaultDeviceCodeLifetime;

    /// <summary>Minimum polling interval, RFC 8628 §3.2 <c>interval</c>.</summary>
    public TimeSpan PollInterval { get; init; } = ClientSettings.DefaultPollInterval;

    /// <summary>First-party clients are operated by us (the QR page, the phone app) and skip consent.</summary>
    public bool FirstParty { get; init; }

    /// <summary>
    /// Number matching against remote phishing (RFC 8628 §5.4): after the scan the waiting screen shows a 2-digit
    /// number, and the phone must pick it among three to approve. For clients that follow the push stream.
    /// </summary>
    public bool NumberMatching { get; init; }

    /// <summary>Every token request must carry a DPoP proof (RFC 9449), so tokens are always bound to a key.</summary>
    public bool RequireDpop { get; init; }

    /// <summary>A refresh token family ends this long after sign-in, however often it is used (RFC 9700 §4.14.2).</summary>
    public TimeSpan RefreshTokenAbsoluteLifetime { get; init; } = ClientSettings.DefaultRefreshTokenAbsoluteLifetime;

    /// <summary>A refresh token unused for this long expires: an abandoned device stops being signed in.</summary>
    public TimeSpan RefreshTokenIdleLifetime { get; init; } = ClientSettings.DefaultRefreshTokenIdleLifetime;

    /// <summary>This client's access token lifetime, or null for <c>Tokens:AccessTokenLifetime</c>.</summary>
    public TimeSpan? AccessTokenLifetime { get; init; }

    /// <summary>This client's ID token lifetime, or null for <c>Tokens:IdentityTokenLifetime</c>.</summary>
    public TimeSpan? IdentityTokenLifetime { get; init; }

    /// <summary>
    /// The algorithm of this client's ID tokens (OIDC Dynamic Client Registration §2 <c>id_token_signed_response_alg</c>),
    /// or null for the server's default (<c>Tokens:IdentityTokenAlgorithm</c>, RS256 as OIDC Core §3.1.3.7 expects).
    /// </summary>
    public string? IdTokenSignedResponseAlg { get; init; }
}
