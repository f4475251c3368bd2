namespace AuthServer.Data.Entities;

/// <summary>A security-relevant event, kept for the audit log (refresh token reuse, key rotation, …).</summary>
public sealed class AuditEvent
{
    public long Id { get; set; }
    public DateTimeOffset At { get; set; }
    public required string Type { get; set; }
    public string? UserId { get; set; }
    public string? ClientId { get; set; }

    /// <summary>Free text for people; never a secret.</summary>
    public string? Detail { get; set; }
}
