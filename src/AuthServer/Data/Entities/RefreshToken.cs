namespace AuthServer.Data.Entities;

/// <summary>An opaque refresh token. Only its SHA-256 hash is stored.</summary>
public sealed class RefreshToken
{
    public required string Id { get; set; }
    public required string TokenHash { get; set; }

    /// <summary>All tokens rotated from one grant share a family (RFC 9700 §4.14.2).</summary>
    public required string FamilyId { get; set; }

    public required string ClientId { get; set; }
    public required string UserId { get; set; }
    public required string LinkedDeviceId { get; set; }
    public required string Scope { get; set; }

    /// <summary>When the user approved the original grant (OIDC <c>auth_time</c>).</summary>
    public DateTimeOffset AuthTime { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset ExpiresAt { get; set; }
    public DateTimeOffset? ConsumedAt { get; set; }
    public DateTimeOffset? RevokedAt { get; set; }

    /// <summary>The family's absolute end, inherited by every rotation.</summary>
    public DateTimeOffset FamilyExpiresAt { get; set; }

    /// <summary>The token this one was rotated into; a late retry within the leeway replaces it.</summary>
    public string? ReplacedById { get; set; }

    /// <summary>The DPoP key thumbprint a public client's refresh token is bound to (RFC 9449 §5).</summary>
    public string? Jkt { get; set; }
}
