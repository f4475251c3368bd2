using System.ComponentModel.DataAnnotations;
using AuthServer.Data;
using AuthServer.Data.Entities;
using AuthServer.Hosting;
using AuthServer.Pages.Admin;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.Extensions.Options;

namespace AuthServer.Areas.Identity.Pages.Account;

/// <summary>
/// Self-registration, only when <c>AuthServer:AllowSelfRegistration</c> is on; otherwise the page is not found, and
/// accounts come from an administrator or <c>create-admin</c>. The server sends no email, so there is nothing to
/// confirm: the new account is signed in at once. The account and its audit event commit together.
/// </summary>
[AllowAnonymous]
public sealed class RegisterModel(
    IOptions<AuthServerOptions> options, UserManager<ApplicationUser> users, SignInManager<ApplicationUser> signIn,
    AuthServerDbContext db, TimeProvider clock) : PageModel
{
    public sealed class InputModel
    {
        [Required(ErrorMessage = "Enter your email address."), EmailAddress(ErrorMessage = "That is not an email address."), StringLength(256)]
        public string Email { get; set; } = "";

        [Required(ErrorMessage = "Choose a password."), DataType(DataType.Password)]
        public string Password { get; set; } = "";

        [DataType(DataType.Password), Compare(nameof(Password), ErrorMessage = "The two passwords are not the same.")]
        public string ConfirmPassword { get; set; } = "";
    }

    [BindProperty]
    public InputModel Input { get; set; } = new();

    [BindProperty(SupportsGet = true)]
    public string? ReturnUrl { get; set; }

    public IActionResult OnGet() => options.Value.AllowSelfRegistration ? Page() : NotFound();

    public async Task<IActionResult> OnPostAsync()
    {
        if (!options.Value.AllowSelfRegistration) return NotFound();
        if (!ModelState.IsValid) return Page();

        var email = Input.Email.Trim();
        var user = new ApplicationUser { UserName = email, Email = email };
        var refusal = await AdminChange.RunAsync(db, async () =>
        {
            // That a name is taken is said too: a sign-up form cannot hide it, since the sign-in page could be tried.
            if (!await NewAccounts.TryCreateAsync(users, user, Input.Password, ModelState)) return "Identity refused the account.";
            Audit.Add(db, Audit.AccountRegistered, clock.GetUtcNow(), user.Id, null, $"{email} registered on the sign-up page.").ActorName = email;
            return null;
        }, HttpContext.RequestAborted);
        if (refusal is not null) return Page();

        await signIn.SignInAsync(user, isPersistent: false);
        return LocalRedirect(Url.IsLocalUrl(ReturnUrl) ? ReturnUrl : "/");
    }
}
