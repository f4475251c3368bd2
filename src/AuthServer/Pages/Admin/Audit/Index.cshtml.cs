using AuthServer.Localization;
using Microsoft.Extensions.Localization;
using AuthServer.Clients;
using AuthServer.Data;
using AuthServer.Data.Entities;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;

namespace AuthServer.Pages.Admin.Audit;

/// <summary>The audit log: newest first, filterable, a page at a time.</summary>
public sealed class IndexModel(AuthServerDbContext db, UserManager<ApplicationUser> users, ClientStore clients, IStringLocalizer<SharedResource> text) : PageModel
{
    public const int PageSize = 50;

    // The filters, all optional, from the query string so that a filtered view can be linked.

    /// <summary>One event type, by its stored name.</summary>
    [BindProperty(SupportsGet = true, Name = "type")]
    public string? Type { get; set; }

    /// <summary>Only the types the dashboard counts as failures.</summary>
    [BindProperty(SupportsGet = true, Name = "failures")]
    public bool Failures { get; set; }

    /// <summary>The account the events are about: its email or its id.</summary>
    [BindProperty(SupportsGet = true, Name = "user")]
    public string? Account { get; set; }

    [BindProperty(SupportsGet = true, Name = "client")]
    public string? Client { get; set; }

    /// <summary>Who made them: the user name of the signed-in person (for admin changes, the admin).</summary>
    [BindProperty(SupportsGet = true, Name = "actor")]
    public string? Actor { get; set; }

    /// <summary>An address, or the start of one (<c>10.0.</c>).</summary>
    [BindProperty(SupportsGet = true, Name = "ip")]
    public string? Ip { get; set; }

    [BindProperty(SupportsGet = true, Name = "from")]
    public DateOnly? From { get; set; }

    [BindProperty(SupportsGet = true, Name = "to")]
    public DateOnly? To { get; set; }

    /// <summary>Keyset paging: events older than this id, or newer than <see cref="After"/>.</summary>
    [BindProperty(SupportsGet = true, Name = "before")]
    public long? Before { get; set; }

    [BindProperty(SupportsGet = true, Name = "after")]
    public long? After { get; set; }

    public sealed record Row(AuditEvent Event, string Label, string? UserEmail, string? ClientName);

    public IReadOnlyList<Row> Events { get; private set; } = [];

    /// <summary>Set when older (or newer) events than this page's exist.</summary>
    public long? OlderThan { get; private set; }
    public long? NewerThan { get; private set; }

    /// <summary>Why nothing can match, when a filter names something that does not exist.</summary>
    public string? Problem { get; private set; }

    public IReadOnlyList<AuditEventType> Types => Data.Audit.Types;

    public async Task OnGetAsync()
    {
        if (!ModelState.IsValid) return;
        if (Type is { Length: > 0 } type && Data.Audit.Find(type) is null)
        {
            ModelState.AddModelError(nameof(Type), text["'{0}' is not an event type.", type]);
            return;
        }
        if (From is { } from && To is { } to && to < from)
        {
            ModelState.AddModelError(nameof(To), "The end date is before the start date.");
            return;
        }

        var query = db.AuditEvents.AsNoTracking();
        if (Type is { Length: > 0 }) query = query.Where(e => e.Type == Type);
        if (Failures) query = query.Where(e => Data.Audit.FailureTypes.Contains(e.Type));
        if (Account is { Length: > 0 } user)
        {
            if (await AdminAccounts.IdOfAsync(users, user) is not { } userId)
            {
                Problem = text["No account has the email {0}.", user];
                return;
            }
            query = query.Where(e => e.UserId == userId);
        }
        if (Client is { Length: > 0 } client) query = query.Where(e => e.ClientId == client.Trim());
        // Upper-cased on both sides: LIKE ignores case on SQLite but not on PostgreSQL.
        if (Actor is { Length: > 0 } actor) query = query.Where(e => EF.Functions.Like(e.ActorName!.ToUpper(), actor.Trim().ToUpperInvariant()));
        if (Ip is { Length: > 0 } ip) query = query.Where(e => e.Ip!.StartsWith(ip.Trim()));
        if (From is { } start) query = query.Where(e => e.At >= new DateTimeOffset(start.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero));
        if (To is { } end) query = query.Where(e => e.At < new DateTimeOffset(end.AddDays(1).ToDateTime(TimeOnly.MinValue), TimeSpan.Zero));

        // One more than a page tells whether there is a next one.
        List<AuditEvent> page;
        if (After is { } after)
        {
            page = await query.Where(e => e.Id > after).OrderBy(e => e.Id).Take(PageSize + 1).ToListAsync(HttpContext.RequestAborted);
            if (page.Count > PageSize) NewerThan = page[PageSize - 1].Id;
            page = [.. page.Take(PageSize).Reverse()];
            if (page.Count > 0) OlderThan = page[^1].Id;
        }
        else
        {
            var older = Before is { } before ? query.Where(e => e.Id < before) : query;
            page = await older.OrderByDescending(e => e.Id).Take(PageSize + 1).ToListAsync(HttpContext.RequestAborted);
            if (page.Count > PageSize) OlderThan = page[PageSize - 1].Id;
            page = [.. page.Take(PageSize)];
            if (Before is not null && page.Count > 0) NewerThan = page[0].Id;
        }

        var emails = await AdminAccounts.EmailsAsync(db, page.Select(e => e.UserId), HttpContext.RequestAborted);
        Events = [.. page.Select(e => new Row(e, Data.Audit.Find(e.Type)?.Label ?? e.Type,
            e.UserId is null ? null : emails.GetValueOrDefault(e.UserId),
            e.ClientId is null ? null : clients.Find(e.ClientId)?.DisplayName))];
    }

    /// <summary>This page's filters with another page's position, for the pager's links.</summary>
    public Dictionary<string, string?> Route(long? before, long? after) => new()
    {
        ["type"] = Type,
        ["failures"] = Failures ? "true" : null,
        ["user"] = Account,
        ["client"] = Client,
        ["actor"] = Actor,
        ["ip"] = Ip,
        ["from"] = From?.ToString("yyyy-MM-dd"),
        ["to"] = To?.ToString("yyyy-MM-dd"),
        ["before"] = before?.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["after"] = after?.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };
}
