using AuthServer.Data.Entities;
using AuthServer.Protocol;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace AuthServer.Pages.Logout;

/// <summary>
/// The end-session endpoint (OpenID Connect RP-Initiated Logout 1.0). With an ID token hint for the signed-in user the
/// logout happens at once; without one, the user confirms first, so a third-party page cannot sign people out.
/// Applications may GET or POST here, so antiforgery is checked only on the user's own confirmation.
/// </summary>
[IgnoreAntiforgeryToken]
public sealed class IndexModel(EndSessionRequestValidator validator, SignInManager<ApplicationUser> signIn, IAntiforgery antiforgery) : PageModel
{
    public string? Problem { get; private set; }
    public bool SignedOut { get; private set; }
    public IReadOnlyDictionary<string, string> Carried { get; private set; } = new Dictionary<string, string>();

    public Task<IActionResult> OnGetAsync() => HandleAsync(Request.Query, confirmed: false);

    public async Task<IActionResult> OnPostAsync()
    {
        var form = await Request.ReadFormAsync();
        var confirmed = form.ContainsKey("confirm");
        if (confirmed && !await antiforgery.IsRequestValidAsync(HttpContext))
            return BadRequest();
        return await HandleAsync(form.Where(p => p.Key is not ("confirm" or "__RequestVerificationToken")), confirmed);
    }

    private async Task<IActionResult> HandleAsync(IEnumerable<KeyValuePair<string, Microsoft.Extensions.Primitives.StringValues>> parameters, bool confirmed)
    {
        var list = parameters.ToList();
        var (request, problem) = await validator.ValidateAsync(Request, list);
        if (request is null)
        {
            Problem = problem;
            Response.StatusCode = StatusCodes.Status400BadRequest;
            return Page();
        }

        var signedIn = signIn.IsSignedIn(User);
        var hintIsThisUser = request.HintSubject is not null && request.HintSubject == signIn.UserManager.GetUserId(User);
        if (signedIn && !confirmed && !hintIsThisUser)
        {
            Carried = list.Where(p => p.Value.Count == 1).ToDictionary(p => p.Key, p => p.Value.ToString());
            return Page();
        }

        if (signedIn) await signIn.SignOutAsync();
        if (request.ReturnTo is not null) return Redirect(request.ReturnTo);
        SignedOut = true;
        return Page();
    }
}
