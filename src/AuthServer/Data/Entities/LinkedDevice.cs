namespace AuthServer.Data.Entities;

/// <summary>
/// A device signed in to an account (a waiting screen, or the phone itself). Every token carries its id as
/// <c>device_id</c>; logging the device out revokes what was issued to it.
/// </summary>
public sealed class LinkedDevice
{
    public required string Id { get; set; }
    public required string UserId { get; set; }
    public required string ClientId { get; set; }
    public required string Name { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset LastUsedAt { get; set; }
    public string? LastIp { get; set; }
    public string? UserAgent { get; set; }
    public DateTimeOffset? RevokedAt { get; set; }
}
