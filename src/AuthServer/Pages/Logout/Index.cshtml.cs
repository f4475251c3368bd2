using AuthServer.Data.Entities;
using Microsoft.AspNetCore;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using OpenIddict.Abstractions;
using OpenIddict.Server.AspNetCore;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace AuthServer.Pages.Logout;

/// <summary>
/// The end-session endpoint's passthrough (OpenID Connect RP-Initiated Logout 1.0). OpenIddict has checked the
/// <c>id_token_hint</c> (one of our ID tokens; expired is fine, it identifies rather than authorizes) and that a
/// <c>post_logout_redirect_uri</c> is registered for the client, so this page is no open redirector. With a hint for
/// the signed-in user the logout happens at once; without one, the user confirms first, so a third-party page cannot
/// sign people out. Applications may GET or POST here, so antiforgery is checked only on the user's own confirmation.
/// </summary>
[IgnoreAntiforgeryToken]
public sealed class IndexModel(
    SignInManager<ApplicationUser> signIn, IAntiforgery antiforgery, Data.AuthServerDbContext db, IOpenIddictAuthorizationManager authorizations,
    IOpenIddictTokenManager tokens)
    : PageModel
{
    private const string ConfirmField = "confirm";

    public string? Problem { get; private set; }
    public bool SignedOut { get; private set; }
    public IReadOnlyDictionary<string, string> Carried { get; private set; } = new Dictionary<string, string>();

    public Task<IActionResult> OnGetAsync() => HandleAsync(confirmed: false);

    public async Task<IActionResult> OnPostAsync()
    {
        var confirmed = Request.HasFormContentType && (await Request.ReadFormAsync()).ContainsKey(ConfirmField);
        if (confirmed && !await antiforgery.IsRequestValidAsync(HttpContext))
            return BadRequest();
        return await HandleAsync(confirmed);
    }

    private async Task<IActionResult> HandleAsync(bool confirmed)
    {
        var request = HttpContext.GetOpenIddictServerRequest();
        if (request is null)
        {
            Problem = "The sign-out request could not be read.";
            Response.StatusCode = StatusCodes.Status400BadRequest;
            return Page();
        }

        var hint = (await HttpContext.AuthenticateAsync(OpenIddictServerAspNetCoreDefaults.AuthenticationScheme)).Principal;
        if (request.IdTokenHint is not null && hint?.GetClaim(Claims.Subject) is null)
        {
            Problem = "The sign-out request carries an ID token we did not issue.";
            Response.StatusCode = StatusCodes.Status400BadRequest;
            return Page();
        }
        var signedIn = signIn.IsSignedIn(User);
        var hintIsThisUser = hint?.GetClaim(Claims.Subject) is { } subject && subject == signIn.UserManager.GetUserId(User);
        if (signedIn && !confirmed && !hintIsThisUser)
        {
            Carried = request.GetParameters()
                .Where(p => p.Key is not (ConfirmField or "__RequestVerificationToken") && (string?)p.Value is not null)
                .ToDictionary(p => p.Key, p => (string)p.Value!);
            return Page();
        }

        if (signedIn)
        {
            // A browser signed in by a QR scan is a linked device of its own; signing out logs it out too.
            if (WebSignIn.BrowserSession.DeviceOf(User) is { } device)
                await Tokens.LinkedDevices.LogOutAsync(db, authorizations, tokens, device, signIn.UserManager.GetUserId(User), HttpContext.RequestAborted);
            // A new security stamp makes every copy of this session's cookie fail Identity's stamp check (within
            // AdminAccess.SessionCheckInterval), not just the one this browser deletes now: a stolen cookie dies with
            // the sign-out. The account's other browser sessions end with it.
            if (await signIn.UserManager.GetUserAsync(User) is { } user) await signIn.UserManager.UpdateSecurityStampAsync(user);
            await signIn.SignOutAsync();
        }
        // OpenIddict returns to the validated post_logout_redirect_uri, with the state (§3); without one, we say so here.
        if (request.PostLogoutRedirectUri is not null)
            return SignOut(new AuthenticationProperties(), OpenIddictServerAspNetCoreDefaults.AuthenticationScheme);
        SignedOut = true;
        return Page();
    }
}
