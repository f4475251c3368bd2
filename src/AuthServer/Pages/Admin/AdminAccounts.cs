using AuthServer.Data;
using AuthServer.Data.Entities;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;

namespace AuthServer.Pages.Admin;

/// <summary>How the admin screens name accounts: filters take an email or an id, lists show emails.</summary>
public static class AdminAccounts
{
    /// <summary>The account id a filter names (an email, or an id as it is), or null for an email no account has.</summary>
    public static async Task<string?> IdOfAsync(UserManager<ApplicationUser> users, string emailOrId)
    {
        var text = emailOrId.Trim();
        return text.Contains('@') ? (await users.FindByEmailAsync(text))?.Id : text;
    }

    /// <summary>The emails of the accounts with these ids, in one query.</summary>
    public static Task<Dictionary<string, string?>> EmailsAsync(AuthServerDbContext db, IEnumerable<string?> ids, CancellationToken cancellationToken)
    {
        var wanted = ids.OfType<string>().Distinct().ToList();
        return db.Users.AsNoTracking().Where(u => wanted.Contains(u.Id)).ToDictionaryAsync(u => u.Id, u => u.Email, cancellationToken);
    }
}
