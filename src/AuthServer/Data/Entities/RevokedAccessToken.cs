namespace AuthServer.Data.Entities;

/// <summary>
/// An access token revoked before its expiry (RFC 7009). JWTs are self-contained, so our own endpoints and
/// introspection consult this list; the row can go once the token would have expired anyway.
/// </summary>
public sealed class RevokedAccessToken
{
    public required string Jti { get; set; }
    public DateTimeOffset ExpiresAt { get; set; }
}
