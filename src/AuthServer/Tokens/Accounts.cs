using AuthServer.Data.Entities;

namespace AuthServer.Tokens;

/// <summary>The account a grant is for, checked again at the moment tokens are issued.</summary>
public static class Accounts
{
    /// <summary>
    /// ASP.NET Identity's lockout rule (lockout enabled and its end still ahead), judged by the server's clock rather
    /// than the wall clock, so it is the same time every other expiry here is judged by.
    /// </summary>
    public static bool IsLockedOut(ApplicationUser user, DateTimeOffset now) => user.LockoutEnabled && user.LockoutEnd > now;
}
