using AuthServer.Data;
using AuthServer.Data.Entities;
using AuthServer.Data.Stores;
using Microsoft.EntityFrameworkCore;

namespace AuthServer.Tokens;

/// <summary>The account a grant is for, checked again at the moment tokens are issued.</summary>
public static class Accounts
{
    private static readonly CompiledLookup<ApplicationUser> ById =
        new((db, id, _) => db.Users.AsNoTracking().FirstOrDefault(u => u.Id == id));

    /// <summary>
    /// The account as it is now, for an approval or a redemption to build its principal from: the row read with this
    /// request's token when that token names it (<see cref="ReadAccounts"/>), or else one compiled, untracked query.
    /// <c>UserManager.FindByIdAsync</c> went through EF's query pipeline and change tracker on every login's two reads,
    /// for an entity nothing there changes (docs/benchmarks.md).
    /// </summary>
    public static async Task<ApplicationUser?> FindAsync(AuthServerDbContext db, ReadAccounts read, string? id, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(id)) return null;
        if (read.TryGet(id, out var known)) return known;
        await db.KeepOpenAsync(cancellationToken);
        return await ById.RunAsync(db, id, cancellationToken);
    }

    /// <summary>
    /// ASP.NET Identity's lockout rule (lockout enabled and its end still ahead), judged by the server's clock rather
    /// than the wall clock, so it is the same time every other expiry here is judged by.
    /// </summary>
    public static bool IsLockedOut(ApplicationUser user, DateTimeOffset now) => user.LockoutEnabled && user.LockoutEnd > now;
}
