using AuthServer.Localization;
using Microsoft.Extensions.Localization;
using System.Security.Claims;
using AuthServer.Data;
using AuthServer.Data.Entities;
using AuthServer.Hosting;
using AuthServer.Tokens;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;
using OpenIddict.Abstractions;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace AuthServer.Pages.Admin.Users;

/// <summary>
/// One account: lock and unlock it, reset its failed sign-ins, choose its roles, see its linked devices and log each
/// out, or sign it out everywhere. Each change commits with its audit event.
/// </summary>
public sealed class DetailsModel(
    AuthServerDbContext db, UserManager<ApplicationUser> users, RoleManager<IdentityRole> roles,
    IOpenIddictAuthorizationManager authorizations, IOpenIddictTokenManager tokens, TimeProvider clock, IStringLocalizer<SharedResource> text) : PageModel
{
    [BindProperty(SupportsGet = true)]
    public string Id { get; set; } = "";

    /// <summary>
    /// The account's concurrency stamp when the roles form was filled in. Two admins editing one account's roles: the
    /// second save, made without seeing the first, is refused instead of silently undoing it; the stamp is also the
    /// update's condition in the database, so a save that lands between the check and the write is refused too.
    /// </summary>
    [BindProperty]
    public string? ConcurrencyStamp { get; set; }

    public const string ChangedMeanwhile =
        "This account was changed while you were editing it, so your change is not saved. Its roles as saved now are shown below; choose again and save.";

    public ApplicationUser? Account { get; private set; }
    public IReadOnlyList<string> Roles { get; private set; } = [];
    public IReadOnlyList<string> AllRoles { get; private set; } = [];
    public IReadOnlyList<LinkedDevice> Devices { get; private set; } = [];
    public bool LockedOut { get; private set; }
    public bool IsSelf => Account?.Id == User.FindFirstValue(ClaimTypes.NameIdentifier);
    public string? Result { get; private set; }
    public string? Problem { get; private set; }

    public async Task<IActionResult> OnGetAsync(bool created = false)
    {
        if (!await LoadAsync()) return NotFoundPage();
        if (created) Result = text["{0} was created.", Account!.Email ?? ""];
        return Page();
    }

    public Task<IActionResult> OnPostLockAsync() => ChangeAsync(async user =>
    {
        if (IsSelf) return "You cannot lock your own account.";
        await users.SetLockoutEnabledAsync(user, true);
        var locked = await users.SetLockoutEndDateAsync(user, DateTimeOffset.MaxValue);
        if (!locked.Succeeded) return Describe(locked);
        Audit(Data.Audit.UserLocked, $"{user.Email} locked until an admin unlocks it: its grants are refused from now on.");
        return null;
    }, "The account is locked. Its devices' next token requests are refused.");

    public Task<IActionResult> OnPostUnlockAsync() => ChangeAsync(async user =>
    {
        var unlocked = await users.SetLockoutEndDateAsync(user, null);
        if (!unlocked.Succeeded) return Describe(unlocked);
        await users.ResetAccessFailedCountAsync(user);
        Audit(Data.Audit.UserUnlocked, $"{user.Email} unlocked; its failed sign-ins reset.");
        return null;
    }, "The account is unlocked.");

    public Task<IActionResult> OnPostResetLockoutAsync() => ChangeAsync(async user =>
    {
        var count = user.AccessFailedCount;
        var reset = await users.ResetAccessFailedCountAsync(user);
        if (!reset.Succeeded) return Describe(reset);
        Audit(Data.Audit.UserLockoutReset, $"{user.Email}: {count} failed sign-ins forgotten.");
        return null;
    }, "The failed sign-ins are reset: the account has its full number of attempts again.");

    public Task<IActionResult> OnPostRolesAsync(List<string> roleNames, string? newRole) => ChangeAsync(async user =>
    {
        if (ConcurrencyStamp is null || user.ConcurrencyStamp != ConcurrencyStamp) return ChangedMeanwhile;
        db.Entry(user).Property(u => u.ConcurrencyStamp).OriginalValue = ConcurrencyStamp;
        // The account's row is written first, against the form's stamp: a concurrent save of the same account waits
        // for this one's transaction on that row and is then refused, before it inserts a role row this one inserts too.
        if (await users.UpdateAsync(user) is { Succeeded: false } claimed) return Describe(claimed);
        var wanted = roleNames.Select(r => r.Trim()).Where(r => r.Length > 0).ToHashSet(StringComparer.Ordinal);
        if (newRole?.Trim() is { Length: > 0 } created)
        {
            if (created.Length > 50 || created.Any(c => char.IsControl(c) || char.IsWhiteSpace(c)))
                return "A role name is at most 50 characters, without spaces.";
            if (!await roles.RoleExistsAsync(created)) await roles.CreateAsync(new IdentityRole(created));
            wanted.Add(created);
        }
        var existing = await CreateModel.RoleNamesAsync(roles);
        if (wanted.FirstOrDefault(r => !existing.Contains(r)) is { } unknown) return text["There is no role '{0}'.", unknown];
        var current = (await users.GetRolesAsync(user)).ToHashSet(StringComparer.Ordinal);
        if (IsSelf && current.Contains(AdminAccess.Role) && !wanted.Contains(AdminAccess.Role))
            return "You cannot take the admin role from your own account; another admin can.";
        var added = wanted.Except(current).Order(StringComparer.Ordinal).ToList();
        var removed = current.Except(wanted).Order(StringComparer.Ordinal).ToList();
        if (added.Count + removed.Count == 0) return "The roles are unchanged.";
        if (added.Count > 0 && await users.AddToRolesAsync(user, added) is { Succeeded: false } addFailed) return Describe(addFailed);
        if (removed.Count > 0 && await users.RemoveFromRolesAsync(user, removed) is { Succeeded: false } removeFailed) return Describe(removeFailed);
        Audit(Data.Audit.UserRolesChanged, $"{user.Email}: added {List(added)}; removed {List(removed)}.");
        return null;
    }, "The roles are saved.");

    /// <summary>
    /// Rotating the security stamp ends every browser session at its next check (within
    /// <see cref="AdminAccess.SessionCheckInterval"/>); tokens do not carry the stamp, so every linked device is ended
    /// too, which refuses their refresh tokens and their access tokens at once.
    /// </summary>
    public Task<IActionResult> OnPostSignOutEverywhereAsync() => ChangeAsync(async user =>
    {
        var stamp = await users.UpdateSecurityStampAsync(user);
        if (!stamp.Succeeded) return Describe(stamp);
        var devices = await db.Authorizations.Where(a => a.Subject == user.Id && a.Type == AuthorizationTypes.AdHoc && a.Status == Statuses.Valid)
            .Select(a => a.Id!).ToListAsync(HttpContext.RequestAborted);
        foreach (var device in devices) await LinkedDevices.EndAsync(db, authorizations, tokens, device, HttpContext.RequestAborted);
        Audit(Data.Audit.UserSignedOutEverywhere, $"{user.Email}: security stamp rotated, {devices.Count} linked devices logged out.");
        return null;
    }, "Signed out everywhere: every linked device is logged out, and browser sessions end within a minute.");

    private async Task<IActionResult> ChangeAsync(Func<ApplicationUser, Task<string?>> change, string done)
    {
        if (!await LoadAsync()) return NotFoundPage();
        var user = Account!;
        Problem = await AdminChange.RunAsync(db, () => change(user), HttpContext.RequestAborted);
        if (Problem is null) Result = done;
        // The form shows the account as saved now, with the stamp to save against next.
        ModelState.Remove(nameof(ConcurrencyStamp));
        await LoadAsync();
        return Page();
    }

    private void Audit(string type, string detail) => Data.Audit.Add(db, type, clock.GetUtcNow(), Account!.Id, null, detail);

    /// <summary>Identity's own concurrency failure (another request saved the account first) said in the page's words.</summary>
    private static string Describe(IdentityResult result) =>
        result.Errors.Any(e => e.Code == nameof(IdentityErrorDescriber.ConcurrencyFailure))
            ? ChangedMeanwhile
            : string.Join(" ", result.Errors.Select(e => e.Description));

    private static string List(IReadOnlyCollection<string> names) => names.Count == 0 ? "none" : string.Join(", ", names);

    private async Task<bool> LoadAsync()
    {
        Account = await users.FindByIdAsync(Id);
        if (Account is null) return false;
        Roles = [.. (await users.GetRolesAsync(Account)).Order(StringComparer.Ordinal)];
        AllRoles = await CreateModel.RoleNamesAsync(roles);
        Devices = await LinkedDevices.ActiveOfAsync(db, Account.Id, HttpContext.RequestAborted);
        LockedOut = Accounts.IsLockedOut(Account, clock.GetUtcNow());
        return true;
    }

    private IActionResult NotFoundPage()
    {
        Response.StatusCode = StatusCodes.Status404NotFound;
        return Page();
    }
}
