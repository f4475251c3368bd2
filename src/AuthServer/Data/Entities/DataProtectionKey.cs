namespace AuthServer.Data.Entities;

/// <summary>An ASP.NET Core Data Protection key ring element, shared by every node through the database.</summary>
public sealed class DataProtectionKey
{
    public int Id { get; set; }
    public string? FriendlyName { get; set; }
    public required string Xml { get; set; }
}
