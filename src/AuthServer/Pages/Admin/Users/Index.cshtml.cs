using AuthServer.Data;
using AuthServer.Tokens;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;

namespace AuthServer.Pages.Admin.Users;

/// <summary>The accounts: search by email or name, with their roles, lockout and signed-in devices at a glance.</summary>
public sealed class IndexModel(AuthServerDbContext db, TimeProvider clock) : PageModel
{
    public const int PageSize = 50;

    [BindProperty(SupportsGet = true, Name = "q")]
    public string? Search { get; set; }

    [BindProperty(SupportsGet = true, Name = "p")]
    public int PageNumber { get; set; } = 1;

    public sealed record Row(string Id, string Email, string? DisplayName, IReadOnlyList<string> Roles, bool LockedOut, int FailedSignIns, int Devices);

    public IReadOnlyList<Row> Users { get; private set; } = [];
    public bool HasMore { get; private set; }

    public async Task OnGetAsync()
    {
        var cancellationToken = HttpContext.RequestAborted;
        var query = db.Users.AsNoTracking();
        if (Search is { Length: > 0 } search)
        {
            // Upper-cased on both sides: LIKE ignores case on SQLite but not on PostgreSQL.
            var pattern = $"%{search.Trim().ToUpperInvariant()}%";
            query = query.Where(u => EF.Functions.Like(u.Email!.ToUpper(), pattern) || EF.Functions.Like(u.DisplayName!.ToUpper(), pattern));
        }
        PageNumber = Math.Max(1, PageNumber);
        var users = await query.OrderBy(u => u.NormalizedEmail).Skip((PageNumber - 1) * PageSize).Take(PageSize + 1).ToListAsync(cancellationToken);
        HasMore = users.Count > PageSize;
        users = [.. users.Take(PageSize)];

        var ids = users.Select(u => u.Id).ToList();
        var roles = await (from link in db.UserRoles
                           join role in db.Roles on link.RoleId equals role.Id
                           where ids.Contains(link.UserId)
                           select new { link.UserId, role.Name }).ToListAsync(cancellationToken);
        var devices = await LinkedDevices.Active(db).Where(a => ids.Contains(a.Subject!))
            .GroupBy(a => a.Subject!).Select(g => new { UserId = g.Key, Count = g.Count() })
            .ToDictionaryAsync(g => g.UserId, g => g.Count, cancellationToken);
        var now = clock.GetUtcNow();
        Users = [.. users.Select(u => new Row(u.Id, u.Email ?? u.UserName ?? u.Id, u.DisplayName,
            [.. roles.Where(r => r.UserId == u.Id).Select(r => r.Name!).Order(StringComparer.Ordinal)],
            Accounts.IsLockedOut(u, now), u.AccessFailedCount, devices.GetValueOrDefault(u.Id)))];
    }
}
