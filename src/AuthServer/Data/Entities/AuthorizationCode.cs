namespace AuthServer.Data.Entities;

/// <summary>
/// An authorization code (RFC 6749 §4.1.2): single-use, short-lived, bound to the client, the redirect URI and the
/// PKCE challenge. Only its SHA-256 hash is stored.
/// </summary>
public sealed class AuthorizationCode
{
    public required string Id { get; set; }
    public required string CodeHash { get; set; }
    public required string ClientId { get; set; }
    public required string UserId { get; set; }
    public required string RedirectUri { get; set; }
    public required string Scope { get; set; }

    /// <summary>The S256 code challenge (RFC 7636 §4.2).</summary>
    public required string CodeChallenge { get; set; }

    /// <summary>Echoed into the ID token (OIDC Core §3.1.2.1).</summary>
    public string? Nonce { get; set; }

    /// <summary>What the app calls the device it runs on; names the linked device.</summary>
    public string? DeviceName { get; set; }

    public DateTimeOffset AuthTime { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset ExpiresAt { get; set; }
    public DateTimeOffset? RedeemedAt { get; set; }

    /// <summary>The device the redemption created: what a second redemption revokes.</summary>
    public string? LinkedDeviceId { get; set; }
}
