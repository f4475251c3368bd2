namespace AuthServer.Data.Entities;

/// <summary>
/// A security-relevant event, kept for the audit log: who it concerns, who made it happen, when and from where. The
/// types are listed in <see cref="Audit"/>.
/// </summary>
public sealed class AuditEvent
{
    public long Id { get; set; }
    public DateTimeOffset At { get; set; }
    public required string Type { get; set; }

    /// <summary>The account the event is about.</summary>
    public string? UserId { get; set; }

    /// <summary>The client the event is about.</summary>
    public string? ClientId { get; set; }

    /// <summary>The signed-in person who made it happen (an admin, or the account itself), when there was one.</summary>
    public string? ActorId { get; set; }

    /// <summary>That person's user name when it happened, so the log still reads after the account is gone.</summary>
    public string? ActorName { get; set; }

    /// <summary>The address the request came from (after the trusted proxies), when a request caused it.</summary>
    public string? Ip { get; set; }

    /// <summary>Free text for people; never a secret.</summary>
    public string? Detail { get; set; }
}
