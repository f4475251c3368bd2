using AuthServer.Data;
using AuthServer.DeviceFlow;
using AuthServer.Tokens;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;

namespace AuthServer.Pages.Admin.Dashboard;

/// <summary>The numbers an admin checks first: today's logins and failures, the devices signed in, the logins waiting.</summary>
public sealed class IndexModel(AuthServerDbContext db, TimeProvider clock) : PageModel
{
    /// <summary>Midnight UTC on the server's clock: where "today" starts.</summary>
    public DateTimeOffset Today { get; private set; }

    public int DeviceLoginsToday { get; private set; }
    public int PasswordSignInsToday { get; private set; }
    public int ActiveDevices { get; private set; }
    public int PendingRequests { get; private set; }
    public IReadOnlyList<(AuditEventType Type, int Count)> FailuresToday { get; private set; } = [];

    public int LoginsToday => DeviceLoginsToday + PasswordSignInsToday;
    public int FailureCount => FailuresToday.Sum(f => f.Count);

    public async Task OnGetAsync()
    {
        var cancellationToken = HttpContext.RequestAborted;
        var now = clock.GetUtcNow();
        Today = new DateTimeOffset(now.UtcDateTime.Date, TimeSpan.Zero);

        var counts = await db.AuditEvents.AsNoTracking()
            .Where(e => e.At >= Today)
            .GroupBy(e => e.Type)
            .Select(g => new { Type = g.Key, Count = g.Count() })
            .ToDictionaryAsync(g => g.Type, g => g.Count, cancellationToken);
        DeviceLoginsToday = counts.GetValueOrDefault(Data.Audit.LoginRequestApproved);
        PasswordSignInsToday = counts.GetValueOrDefault(Data.Audit.SignInSucceeded);
        FailuresToday = [.. Data.Audit.Types.Where(t => t.IsFailure).Select(t => (t, counts.GetValueOrDefault(t.Name)))];

        ActiveDevices = await LinkedDevices.Active(db).CountAsync(cancellationToken);
        // A login request waits for a phone until it is decided or expires (RFC 8628 §3.5: the screen polls meanwhile).
        PendingRequests = await db.DeviceAuthorizations.AsNoTracking()
            .CountAsync(d => (d.Status == DeviceAuthorizationStatus.Pending || d.Status == DeviceAuthorizationStatus.Scanned) && d.ExpiresAt > now,
                cancellationToken);
    }
}
