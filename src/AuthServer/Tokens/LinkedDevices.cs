using AuthServer.Data;
using AuthServer.Data.Entities;

namespace AuthServer.Tokens;

/// <summary>Records the device behind every grant: created on first sign-in, touched on every refresh.</summary>
public static class LinkedDevices
{
    public const int MaxNameLength = 100;
    private const int MaxUserAgentLength = 512;

    public static LinkedDevice Create(AuthServerDbContext db, HttpContext context, string userId, Client client, string? name, DateTimeOffset now)
    {
        var device = new LinkedDevice
        {
            Id = Guid.CreateVersion7(now).ToString("N"),
            UserId = userId,
            ClientId = client.ClientId,
            Name = string.IsNullOrWhiteSpace(name) ? client.DisplayName : name,
            CreatedAt = now,
        };
        Touch(device, context, now);
        db.LinkedDevices.Add(device);
        return device;
    }

    public static void Touch(LinkedDevice device, HttpContext context, DateTimeOffset now)
    {
        device.LastUsedAt = now;
        device.LastIp = context.Connection.RemoteIpAddress?.ToString();
        device.UserAgent = Truncate(context.Request.Headers.UserAgent.ToString());
    }

    public static string? Truncate(string? userAgent) =>
        string.IsNullOrEmpty(userAgent) ? null : userAgent.Length <= MaxUserAgentLength ? userAgent : userAgent[..MaxUserAgentLength];
}
