using System.ComponentModel.DataAnnotations;
using AuthServer.Data;
using AuthServer.Data.Entities;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Identity.EntityFrameworkCore;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using AuthServer.Hosting;

namespace AuthServer.Areas.Identity.Pages.Account;

/// <summary>
/// The sign-in page. Unlike the Identity UI package's, whose default does not count failed attempts, every wrong password
/// counts towards lockout, so passwords cannot be guessed online. Every attempt is audited, in the same save as the
/// failure count or lockout it changes.
/// </summary>
[AllowAnonymous]
public sealed class LoginModel(
    SignInManager<ApplicationUser> signIn, UserManager<ApplicationUser> users, IUserStore<ApplicationUser> userStore,
    AuthServerDbContext db, TimeProvider clock, ILogger<LoginModel> logger, IOptions<AuthServerOptions> options) : PageModel
{
    public sealed class InputModel
    {
        [Required(ErrorMessage = "Enter your email address."), EmailAddress(ErrorMessage = "That is not an email address.")]
        public string Email { get; set; } = "";

        [Required(ErrorMessage = "Enter your password."), DataType(DataType.Password)]
        public string Password { get; set; } = "";

        public bool RememberMe { get; set; }
    }

    [BindProperty]
    public InputModel Input { get; set; } = new();

    [BindProperty(SupportsGet = true)]
    public string? ReturnUrl { get; set; }

    public string? Problem { get; private set; }

    /// <summary>Whether the page offers the sign-up page (<c>AuthServer:AllowSelfRegistration</c>).</summary>
    public bool SelfRegistration => options.Value.AllowSelfRegistration;

    private const string WrongCredentials = "The email or password is not correct.";

    public void OnGet()
    {
    }

    public async Task<IActionResult> OnPostAsync()
    {
        if (!ModelState.IsValid) return Page();

        var user = await users.FindByNameAsync(Input.Email);
        if (user is null)
        {
            await Audit.WriteAsync(db, Audit.SignInFailed, clock.GetUtcNow(), null, null, $"No account is named {Input.Email}.", HttpContext.RequestAborted);
            // Don't reveal whether the account exists.
            Problem = WrongCredentials;
            return Page();
        }

        var lockedBefore = await users.IsLockedOutAsync(user);
        var result = await SignInHoldingWritesAsync(user);
        var now = clock.GetUtcNow();
        if (result.Succeeded)
            Stage(Audit.SignInSucceeded, now, user, "Signed in with the password.");
        else if (result.IsLockedOut && lockedBefore)
            Stage(Audit.SignInFailed, now, user, "Refused: the account is locked out.");
        else if (result.IsLockedOut)
        {
            Stage(Audit.SignInFailed, now, user, "Wrong password.");
            Stage(Audit.LockedOut, now, user, "Too many failed sign-ins: the account is locked for a while.");
        }
        else if (result.RequiresTwoFactor)
            Stage(Audit.SignInFailed, now, user, "The password was right, but the account needs a second factor this page does not ask for.");
        else if (result.IsNotAllowed)
            Stage(Audit.SignInFailed, now, user, "The account may not sign in.");
        else
            Stage(Audit.SignInFailed, now, user, "Wrong password.");
        await SaveAsync();

        if (result.Succeeded)
            return LocalRedirect(Url.IsLocalUrl(ReturnUrl) ? ReturnUrl : "/");
        if (result.IsLockedOut)
        {
            logger.LogWarning("Sign-in refused: account locked out");
            Problem = "Too many failed attempts. This account is locked for a while; try again later.";
        }
        else
        {
            Problem = WrongCredentials;
        }
        return Page();
    }

    /// <summary>
    /// Identity's password sign-in, with the user store holding its writes (the failure count, a lockout, a password
    /// rehash) until <see cref="SaveAsync"/>, so they commit in one save with their audit event. The password is checked
    /// before anything is written: no write lock is held while it is hashed.
    /// </summary>
    private async Task<Microsoft.AspNetCore.Identity.SignInResult> SignInHoldingWritesAsync(ApplicationUser user)
    {
        var store = userStore as UserStore<ApplicationUser, IdentityRole, AuthServerDbContext, string, IdentityUserClaim<string>,
                IdentityUserRole<string>, IdentityUserLogin<string>, IdentityUserToken<string>, IdentityRoleClaim<string>, IdentityUserPasskey<string>>
            ?? throw new InvalidOperationException("The user store is not the Entity Framework store this page expects.");
        store.AutoSaveChanges = false;
        try
        {
            return await signIn.PasswordSignInAsync(user, Input.Password, Input.RememberMe, lockoutOnFailure: true);
        }
        finally
        {
            store.AutoSaveChanges = true;
        }
    }

    private readonly List<AuditEvent> _staged = [];

    /// <summary>The person acting is the account being signed in to, whoever is at the keyboard.</summary>
    private void Stage(string type, DateTimeOffset at, ApplicationUser user, string detail)
    {
        var audit = Audit.Add(db, type, at, user.Id, null, detail);
        audit.ActorName = user.UserName;
        _staged.Add(audit);
    }

    private async Task SaveAsync()
    {
        try
        {
            await db.SaveChangesAsync(HttpContext.RequestAborted);
        }
        catch (DbUpdateConcurrencyException)
        {
            // Another attempt on the same account saved first; its count stands. The events of this attempt still
            // belong in the log.
            db.ChangeTracker.Clear();
            db.AuditEvents.AddRange(_staged);
            await db.SaveChangesAsync(HttpContext.RequestAborted);
        }
    }
}
