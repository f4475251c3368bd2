using AuthServer.Data.Entities;

namespace AuthServer.Data;

/// <summary>Writes to the audit log. Details are for people and never contain a secret.</summary>
public static class Audit
{
    public const string RefreshTokenReuse = "refresh_token.reuse";
    public const string SigningKeyRotated = "signing_key.rotated";

    public static async Task WriteAsync(AuthServerDbContext db, string type, DateTimeOffset at, string? userId, string? clientId, string detail, CancellationToken cancellationToken)
    {
        db.AuditEvents.Add(new AuditEvent { Type = type, At = at, UserId = userId, ClientId = clientId, Detail = detail });
        await db.SaveChangesAsync(cancellationToken);
    }
}
