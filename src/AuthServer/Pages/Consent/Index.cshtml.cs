using AuthServer.Data;
using AuthServer.Data.Entities;
using AuthServer.Hosting;
using AuthServer.Protocol;
using AuthServer.Tokens;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.AspNetCore.WebUtilities;

namespace AuthServer.Pages.Consent;

/// <summary>
/// Asks the signed-in user whether a third-party application may have the scopes it asked for. The decision is
/// remembered per user and client. The page re-validates the authorization request it came from, so it can only
/// ever send the user back to that request or, on denial, to the client's registered redirect URI.
/// </summary>
[Authorize]
public sealed class IndexModel(AuthorizationRequestValidator validator, AuthServerDbContext db, ScopeCatalog scopes, IssuerResolver issuers, TimeProvider clock)
    : PageModel
{
    [BindProperty(SupportsGet = true)]
    public string? ReturnUrl { get; set; }

    public string? ClientName { get; private set; }
    public IReadOnlyList<string> ScopeDescriptions { get; private set; } = [];
    public string? Problem { get; private set; }

    private string UserId => User.FindFirst(System.Security.Claims.ClaimTypes.NameIdentifier)!.Value;

    public IActionResult OnGet()
    {
        if (Load() is not { } request) return Page();
        ClientName = request.Client.DisplayName;
        ScopeDescriptions = request.Scopes.Select(scopes.Describe).ToList();
        return Page();
    }

    public async Task<IActionResult> OnPostAllowAsync()
    {
        if (Load() is not { } request) return Page();
        var now = clock.GetUtcNow();
        var consent = await db.Consents.FindAsync(UserId, request.Client.ClientId);
        if (consent is null)
        {
            consent = new Data.Entities.Consent { UserId = UserId, ClientId = request.Client.ClientId, Scope = "", CreatedAt = now };
            db.Consents.Add(consent);
        }
        consent.Scope = string.Join(' ', consent.Scope.Split(' ', StringSplitOptions.RemoveEmptyEntries).Union(request.Scopes));
        consent.UpdatedAt = now;
        await db.SaveChangesAsync();
        return LocalRedirect(ReturnUrl!);
    }

    public IActionResult OnPostDeny()
    {
        if (Load() is not { } request) return Page();
        return Redirect(AuthorizeEndpoint.ErrorRedirect(request, issuers.Resolve(Request), "access_denied", "The user denied the request."));
    }

    /// <summary>The authorization request behind <see cref="ReturnUrl"/>, or null with <see cref="Problem"/> set.</summary>
    private AuthorizationRequest? Load()
    {
        if (ReturnUrl is null || !ReturnUrl.StartsWith(AuthorizeEndpoint.Path + "?", StringComparison.Ordinal) || !Url.IsLocalUrl(ReturnUrl))
        {
            Problem = "This page was opened without a sign-in request.";
            return null;
        }
        var query = QueryHelpers.ParseQuery(ReturnUrl[(ReturnUrl.IndexOf('?') + 1)..]);
        if (validator.Validate(query) is AuthorizationValidation.Valid valid) return valid.Request;
        Problem = "The sign-in request is not valid any more. Go back to the application and start again.";
        return null;
    }
}
