using AuthServer.Data;
using AuthServer.Data.Entities;
using Microsoft.EntityFrameworkCore;
using OpenIddict.Abstractions;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace AuthServer.Tokens;

/// <summary>A signed-in device of an account, as the account's device list shows it.</summary>
public sealed record LinkedDevice(string Id, string Name, string ClientId, DateTimeOffset CreatedAt, DateTimeOffset LastUsedAt, string? LastIp);

/// <summary>
/// Linked devices are OpenIddict's ad-hoc authorizations (see <see cref="Handlers.SignInHandlers.AttachLinkedDevice"/>):
/// one per signed-in device, whose id every token of the device carries as <c>device_id</c>. Logging a device out
/// revokes the authorization and its tokens, which every check of its tokens sees at once.
/// </summary>
public static class LinkedDevices
{
    public const int MaxNameLength = 100;
    private const int MaxUserAgentLength = 512;

    /// <summary>Every signed-in device: valid ad-hoc authorizations that led to tokens.</summary>
    public static IQueryable<Authorization> Active(AuthServerDbContext db) =>
        db.Authorizations.AsNoTracking()
            .Where(a => a.Type == AuthorizationTypes.AdHoc && a.Status == Statuses.Valid)
            // A code that was never redeemed did not sign a device in.
            .Where(a => a.Tokens.Any(t => t.Type == TokenTypeIdentifiers.RefreshToken || t.Type == TokenTypeIdentifiers.AccessToken));

    /// <summary>The user's signed-in devices, most recently used first.</summary>
    public static async Task<List<LinkedDevice>> ActiveOfAsync(AuthServerDbContext db, string userId, CancellationToken cancellationToken)
    {
        var rows = await Active(db)
            .Where(a => a.Subject == userId)
            .Select(a => new { a.Id, a.DeviceName, ClientId = a.Application!.ClientId, a.CreationDate, a.LastUsedAt, a.LastIp })
            .ToListAsync(cancellationToken);
        return rows
            .Select(a => new LinkedDevice(a.Id!, a.DeviceName ?? a.ClientId ?? "", a.ClientId ?? "",
                new DateTimeOffset(a.CreationDate ?? DateTime.UnixEpoch, TimeSpan.Zero), a.LastUsedAt ?? default, a.LastIp))
            .OrderByDescending(d => d.LastUsedAt)
            .ToList();
    }

    /// <summary>
    /// Logs a device out: its authorization is revoked and so is every token issued to it. With
    /// <paramref name="userId"/>, only that user's device. False when there was none to log out.
    /// </summary>
    /// <remarks>
    /// The device's row and then its tokens, in one transaction (the caller's, when it has one). On PostgreSQL the row's
    /// lock is then held until the tokens are revoked, and a refresh grant of the device takes a shared lock on that row
    /// before it locks any token (<see cref="Handlers.GrantTransactionHandlers"/>): a grant in flight finishes first and
    /// its new tokens are revoked with the others, one that comes later waits and then finds its token revoked.
    /// </remarks>
    public static async Task<bool> LogOutAsync(AuthServerDbContext db,
        IOpenIddictAuthorizationManager authorizations, IOpenIddictTokenManager tokens, string deviceId, string? userId, CancellationToken cancellationToken)
    {
        if (await authorizations.FindByIdAsync(deviceId, cancellationToken) is not Authorization authorization
            || authorization.Type != AuthorizationTypes.AdHoc || authorization.Status != Statuses.Valid
            || (userId is not null && authorization.Subject != userId))
            return false;
        await using var write = await db.BeginWriteUnlessOpenAsync(cancellationToken);
        if (!await authorizations.TryRevokeAsync(authorization, cancellationToken)) return false;
        await tokens.RevokeByAuthorizationIdAsync(deviceId, cancellationToken);
        if (write is not null) await write.CommitAsync(cancellationToken);
        return true;
    }

    /// <summary>
    /// Ends a device whatever its state, for the server's own reasons (refresh-token reuse, a revoked refresh token):
    /// the authorization, if it still exists, and every token issued to it.
    /// </summary>
    public static async Task EndAsync(AuthServerDbContext db,
        IOpenIddictAuthorizationManager authorizations, IOpenIddictTokenManager tokens, string deviceId, CancellationToken cancellationToken)
    {
        await using var write = await db.BeginWriteUnlessOpenAsync(cancellationToken);
        if (await authorizations.FindByIdAsync(deviceId, cancellationToken) is { } authorization)
            await authorizations.TryRevokeAsync(authorization, cancellationToken);
        await tokens.RevokeByAuthorizationIdAsync(deviceId, cancellationToken);
        if (write is not null) await write.CommitAsync(cancellationToken);
    }


    /// <summary>How stale the device list's "last used" may be: a device refreshing often is written once a minute.</summary>
    public static readonly TimeSpan TouchResolution = TimeSpan.FromMinutes(1);

    /// <summary>
    /// Records that the device used its grant just now, from where: shown in the device list. OpenIddict has just
    /// read the device to validate the grant, so the comparison costs nothing; the write happens when the address
    /// changed or the last one is older than <see cref="TouchResolution"/>.
    /// </summary>
    public static async Task TouchAsync(AuthServerDbContext db, IOpenIddictAuthorizationManager authorizations, string deviceId,
        HttpContext context, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var ip = context.Connection.RemoteIpAddress?.ToString();
        if (await authorizations.FindByIdAsync(deviceId, cancellationToken) is Authorization { LastUsedAt: { } last } device
            && device.LastIp == ip && now - last < TouchResolution && now >= last)
            return;
        await db.Authorizations.Where(a => a.Id == deviceId).ExecuteUpdateAsync(u => u
            .SetProperty(a => a.LastUsedAt, now)
            .SetProperty(a => a.LastIp, ip), cancellationToken);
    }

    public static readonly string NameRule =
        $"device_name must be at most {MaxNameLength} characters, without control or format characters (such as bidirectional overrides).";

    /// <summary>
    /// What a device calls itself (<c>device_name</c>), trimmed; null when it gave none. False when it is too long or
    /// holds a character that could make it read as something else: it is shown to the user who approves (RFC 8628
    /// §5.4, remote phishing), who must see exactly what it says. Refused are control characters (Cc), format characters
    /// (Cf: bidirectional overrides and isolates, zero-width characters; Unicode TR36 §2.4), line and paragraph
    /// separators, private-use and unassigned code points, and broken surrogate pairs.
    /// </summary>
    public static bool TryReadName(string? raw, out string? name)
    {
        name = raw?.Trim();
        if (name is { Length: > MaxNameLength } || (name is not null && !IsPlainText(name))) return false;
        if (string.IsNullOrEmpty(name)) name = null;
        return true;
    }

    /// <summary>Whether <paramref name="text"/> is well-formed UTF-16 holding only characters that show as themselves.</summary>
    public static bool IsPlainText(ReadOnlySpan<char> text)
    {
        while (!text.IsEmpty)
        {
            if (System.Text.Rune.DecodeFromUtf16(text, out var rune, out var used) != System.Buffers.OperationStatus.Done) return false;
            if (System.Text.Rune.GetUnicodeCategory(rune) is System.Globalization.UnicodeCategory.Control
                or System.Globalization.UnicodeCategory.Format or System.Globalization.UnicodeCategory.LineSeparator
                or System.Globalization.UnicodeCategory.ParagraphSeparator or System.Globalization.UnicodeCategory.PrivateUse
                or System.Globalization.UnicodeCategory.OtherNotAssigned or System.Globalization.UnicodeCategory.Surrogate)
                return false;
            text = text[used..];
        }
        return true;
    }

    public static string? Truncate(string? userAgent) =>
        string.IsNullOrEmpty(userAgent) ? null : userAgent.Length <= MaxUserAgentLength ? userAgent : userAgent[..MaxUserAgentLength];
}
