using AuthServer.Data;
using AuthServer.Data.Entities;
using Microsoft.EntityFrameworkCore;

namespace AuthServer.Tokens;

/// <summary>The account a grant is for, checked again at the moment tokens are issued.</summary>
public static class Accounts
{
    private static readonly Func<AuthServerDbContext, string, Task<ApplicationUser?>> ById =
        EF.CompileAsyncQuery((AuthServerDbContext db, string id) => db.Users.AsNoTracking().FirstOrDefault(u => u.Id == id));

    /// <summary>
    /// The account, or null when it was deleted or is locked out now. Same rule as ASP.NET Identity's lockout check
    /// (lockout enabled and its end still ahead), judged by the server's clock, in one compiled query: it runs on
    /// every device-code redemption and every refresh.
    /// </summary>
    public static async Task<ApplicationUser?> FindAvailableAsync(AuthServerDbContext db, string? userId, DateTimeOffset now)
    {
        if (userId is null) return null;
        var user = await ById(db, userId);
        return user is null || IsLockedOut(user, now) ? null : user;
    }

    public static bool IsLockedOut(ApplicationUser user, DateTimeOffset now) => user.LockoutEnabled && user.LockoutEnd > now;
}
