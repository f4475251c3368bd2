using AuthServer.Data;
using AuthServer.Data.Entities;
using Microsoft.EntityFrameworkCore;

namespace AuthServer.Tokens;

/// <summary>Records the device behind every grant: created on first sign-in, touched on every refresh.</summary>
public static class LinkedDevices
{
    public const int MaxNameLength = 100;
    private const int MaxUserAgentLength = 512;

    /// <summary>A new linked device, added to <paramref name="db"/>'s unit of work.</summary>
    public static LinkedDevice Create(AuthServerDbContext db, HttpContext context, string userId, Client client, string? name, DateTimeOffset now)
    {
        var device = New(context, userId, client, name, now);
        db.LinkedDevices.Add(device);
        return device;
    }

    /// <summary>A new linked device for the caller to store.</summary>
    public static LinkedDevice New(HttpContext context, string userId, Client client, string? name, DateTimeOffset now)
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
        return device;
    }

    public static void Touch(LinkedDevice device, HttpContext context, DateTimeOffset now)
    {
        device.LastUsedAt = now;
        device.LastIp = context.Connection.RemoteIpAddress?.ToString();
        device.UserAgent = Truncate(context.Request.Headers.UserAgent.ToString());
    }

    /// <summary>
    /// Logs a device out: the device is marked revoked, which every access-token check sees at once, and its refresh
    /// tokens are revoked. With <paramref name="userId"/>, only that user's device. False when there was none to log out.
    /// </summary>
    public static async Task<bool> LogOutAsync(AuthServerDbContext db, string deviceId, DateTimeOffset now, string? userId, CancellationToken cancellationToken)
    {
        var devices = db.LinkedDevices.Where(d => d.Id == deviceId && d.RevokedAt == null);
        if (userId is not null) devices = devices.Where(d => d.UserId == userId);
        if (await devices.ExecuteUpdateAsync(s => s.SetProperty(d => d.RevokedAt, now), cancellationToken) == 0) return false;
        await db.RefreshTokens.Where(t => t.LinkedDeviceId == deviceId && t.RevokedAt == null)
            .ExecuteUpdateAsync(s => s.SetProperty(t => t.RevokedAt, now), cancellationToken);
        return true;
    }

    /// <summary>The user's signed-in devices, most recently used first.</summary>
    public static Task<List<LinkedDevice>> ActiveOfAsync(AuthServerDbContext db, string userId, CancellationToken cancellationToken) =>
        db.LinkedDevices.AsNoTracking()
            .Where(d => d.UserId == userId && d.RevokedAt == null)
            .OrderByDescending(d => d.LastUsedAt)
            .ToListAsync(cancellationToken);

    public static string? Truncate(string? userAgent) =>
        string.IsNullOrEmpty(userAgent) ? null : userAgent.Length <= MaxUserAgentLength ? userAgent : userAgent[..MaxUserAgentLength];
}
