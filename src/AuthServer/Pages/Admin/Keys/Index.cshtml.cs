using AuthServer.Localization;
using Microsoft.Extensions.Localization;
using AuthServer.Data;
using AuthServer.Data.Entities;
using AuthServer.Tokens;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace AuthServer.Pages.Admin.Keys;

/// <summary>
/// The signing keys: each one's state and dates, the next scheduled rotation of each algorithm, and "rotate now" for
/// when a key may have leaked (the next key, already published, signs at once; the old one stays published until
/// the tokens it signed have expired).
/// </summary>
public sealed class IndexModel(AuthServerDbContext db, SigningKeyStore keys, IOptions<KeyRotationOptions> options, TimeProvider clock, IStringLocalizer<SharedResource> text) : PageModel
{
    public sealed record Schedule(string Algorithm, SigningKey? Current, SigningKey? Next, DateTimeOffset? NextRotation);

    public IReadOnlyList<SigningKey> Keys { get; private set; } = [];
    public IReadOnlyList<Schedule> Schedules { get; private set; } = [];
    public KeyRotationOptions Settings => options.Value;
    public DateTimeOffset Now { get; private set; }
    public string? Result { get; private set; }

    public async Task OnGetAsync()
    {
        Now = clock.GetUtcNow();
        Keys = await db.SigningKeys.AsNoTracking()
            .OrderBy(k => k.Algorithm).ThenBy(k => k.Status).ThenByDescending(k => k.CreatedAt)
            .ToListAsync(HttpContext.RequestAborted);
        Schedules = [.. (await keys.ScheduleAsync(HttpContext.RequestAborted)).Select(s => new Schedule(s.Algorithm, s.Current, s.Next,
            s is { Current: { } current, Next: { } next } ? SigningKeyStore.NextRotation(current, next, Settings) : null))];
    }

    /// <summary>A schedule setting in words, in the reader's language: "30 days", "1 hour", "5 minutes".</summary>
    public static string Duration(TimeSpan value, Microsoft.AspNetCore.Mvc.Localization.IHtmlLocalizer text)
    {
        string Count(double n, string one, string many) =>
            text.GetString(n == 1 ? one : many, n.ToString("0.##", System.Globalization.CultureInfo.InvariantCulture));
        return value.TotalDays >= 1 ? Count(value.TotalDays, "{0} day", "{0} days")
            : value.TotalHours >= 1 ? Count(value.TotalHours, "{0} hour", "{0} hours")
            : value.TotalMinutes >= 1 ? Count(value.TotalMinutes, "{0} minute", "{0} minutes")
            : Count(value.TotalSeconds, "{0} second", "{0} seconds");
    }

    /// <summary>When a retired key leaves the JWKS.</summary>
    public DateTimeOffset? PublishedUntil(SigningKey key) => key.RetiredAt + Settings.KeepRetired;

    public async Task<IActionResult> OnPostRotateAsync()
    {
        var before = (await keys.ScheduleAsync(HttpContext.RequestAborted)).ToDictionary(s => s.Algorithm, s => s.Next?.Id);
        // Each algorithm's rotation and its audit event (with this admin as its actor) commit together.
        await keys.RotateNowAsync(HttpContext.RequestAborted);
        Result = text["Rotated: {0}. The previous keys stay published until their tokens have expired.",
            string.Join("; ", before.Select(b => text["{0} now signs with {1}", b.Key, b.Value ?? ""]))];
        await OnGetAsync();
        return Page();
    }
}
