namespace AuthServer.Data.Entities;

/// <summary>The scopes a user has allowed a third-party client, remembered so consent is asked once.</summary>
public sealed class Consent
{
    public required string UserId { get; set; }
    public required string ClientId { get; set; }

    /// <summary>Space-separated granted scopes.</summary>
    public required string Scope { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }
}
