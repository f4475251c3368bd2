using AuthServer.Localization;
using Microsoft.Extensions.Localization;
using AuthServer.Clients;
using AuthServer.Data;
using AuthServer.Data.Entities;
using AuthServer.Tokens;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;
using OpenIddict.Abstractions;

namespace AuthServer.Pages.Admin.Devices;

/// <summary>
/// Every signed-in device of every account, filterable by account and client. Revoking one logs it out: its
/// authorization and every token issued to it are revoked, which our endpoints and introspection see at once.
/// </summary>
public sealed class IndexModel(
    AuthServerDbContext db, UserManager<ApplicationUser> users, ClientStore clients,
    IOpenIddictAuthorizationManager authorizations, IOpenIddictTokenManager tokens, TimeProvider clock, IStringLocalizer<SharedResource> text) : PageModel
{
    public const int PageSize = 100;

    /// <summary>The account, by email or id.</summary>
    [BindProperty(SupportsGet = true, Name = "user")]
    public string? Account { get; set; }

    [BindProperty(SupportsGet = true)]
    public string? Client { get; set; }

    [BindProperty(SupportsGet = true, Name = "p")]
    public int PageNumber { get; set; } = 1;

    public sealed record Row(string Id, string Name, string UserId, string? UserEmail, string ClientId, string ClientName,
        DateTimeOffset SignedInAt, DateTimeOffset? LastUsedAt, string? LastIp, string? UserAgent);

    public IReadOnlyList<Row> Devices { get; private set; } = [];
    public bool HasMore { get; private set; }
    public string? Result { get; private set; }
    public string? Problem { get; private set; }
    public IEnumerable<Client> Clients => clients.All;

    public async Task OnGetAsync()
    {
        var query = LinkedDevices.Active(db);
        if (Account is { Length: > 0 } user)
        {
            if (await AdminAccounts.IdOfAsync(users, user) is not { } userId)
            {
                Problem = text["No account has the email {0}.", user];
                return;
            }
            query = query.Where(a => a.Subject == userId);
        }
        if (Client is { Length: > 0 } client) query = query.Where(a => a.Application!.ClientId == client);

        PageNumber = Math.Max(1, PageNumber);
        var rows = await query
            .OrderByDescending(a => a.LastUsedAt).ThenBy(a => a.Id)
            .Skip((PageNumber - 1) * PageSize).Take(PageSize + 1)
            .Select(a => new { a.Id, a.DeviceName, a.Subject, a.Application!.ClientId, a.CreationDate, a.LastUsedAt, a.LastIp, a.UserAgent })
            .ToListAsync(HttpContext.RequestAborted);
        HasMore = rows.Count > PageSize;
        var emails = await AdminAccounts.EmailsAsync(db, rows.Select(r => r.Subject), HttpContext.RequestAborted);
        Devices = [.. rows.Take(PageSize).Select(r => new Row(r.Id!, r.DeviceName ?? r.ClientId ?? "", r.Subject ?? "", emails.GetValueOrDefault(r.Subject ?? ""),
            r.ClientId ?? "", clients.Find(r.ClientId)?.DisplayName ?? r.ClientId ?? "",
            new DateTimeOffset(r.CreationDate ?? DateTime.UnixEpoch, TimeSpan.Zero), r.LastUsedAt, r.LastIp, r.UserAgent))];
    }

    public async Task<IActionResult> OnPostRevokeAsync(string id)
    {
        var cancellationToken = HttpContext.RequestAborted;
        var device = await db.Authorizations.AsNoTracking().Where(a => a.Id == id)
            .Select(a => new { a.DeviceName, a.Subject, a.Application!.ClientId }).FirstOrDefaultAsync(cancellationToken);
        Problem = await AdminChange.RunAsync(db, async () =>
        {
            if (device is null || !await LinkedDevices.LogOutAsync(db, authorizations, tokens, id, userId: null, cancellationToken))
                return "That device was already logged out.";
            Data.Audit.Add(db, Data.Audit.DeviceRevoked, clock.GetUtcNow(), device.Subject, device.ClientId,
                $"{device.DeviceName} ({id}) revoked by an admin: its refresh and access tokens stop working.");
            return null;
        }, cancellationToken);
        if (Problem is null) Result = text["{0} is logged out. Its tokens no longer work.", device!.DeviceName ?? ""];
        await OnGetAsync();
        return Page();
    }
}
