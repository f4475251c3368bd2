namespace AuthServer.Data.Entities;

public enum SigningKeyStatus
{
    /// <summary>Published in JWKS ahead of use, so caches learn it before the first token it signs.</summary>
    Next,
    Current,
    /// <summary>No longer signs; published until the tokens it signed have expired.</summary>
    Retired,
}

/// <summary>A token-signing key. The private part is encrypted with ASP.NET Core Data Protection.</summary>
public sealed class SigningKey
{
    /// <summary>The key id (<c>kid</c>): the RFC 7638 thumbprint of the public key.</summary>
    public required string Id { get; set; }
    public required string Algorithm { get; set; }
    public SigningKeyStatus Status { get; set; }
    public required string PublicJwk { get; set; }
    public required string ProtectedPrivateKey { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset? ActivatedAt { get; set; }
    public DateTimeOffset? RetiredAt { get; set; }
}
