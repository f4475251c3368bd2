using System.ComponentModel.DataAnnotations;
using AuthServer.Data.Entities;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace AuthServer.Areas.Identity.Pages.Account;

/// <summary>
/// Replaces the Identity UI sign-in page, whose default does not count failed attempts: here every wrong password
/// counts towards lockout, so passwords cannot be guessed online.
/// </summary>
[AllowAnonymous]
public sealed class LoginModel(SignInManager<ApplicationUser> signIn, ILogger<LoginModel> logger) : PageModel
{
    public sealed class InputModel
    {
        [Required, EmailAddress]
        public string Email { get; set; } = "";

        [Required, DataType(DataType.Password)]
        public string Password { get; set; } = "";

        public bool RememberMe { get; set; }
    }

    [BindProperty]
    public InputModel Input { get; set; } = new();

    [BindProperty(SupportsGet = true)]
    public string? ReturnUrl { get; set; }

    public string? Problem { get; private set; }

    public void OnGet()
    {
    }

    public async Task<IActionResult> OnPostAsync()
    {
        if (!ModelState.IsValid) return Page();

        var result = await signIn.PasswordSignInAsync(Input.Email, Input.Password, Input.RememberMe, lockoutOnFailure: true);
        if (result.Succeeded)
            return LocalRedirect(Url.IsLocalUrl(ReturnUrl) ? ReturnUrl : "/");

        if (result.IsLockedOut)
        {
            logger.LogWarning("Sign-in refused: account locked out");
            Problem = "Too many failed attempts. This account is locked for a while; try again later.";
        }
        else
        {
            // Don't reveal whether the account exists.
            Problem = "The email or password is not correct.";
        }
        return Page();
    }
}
