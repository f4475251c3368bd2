using AuthServer.Clients;
using AuthServer.Endpoints;
using AuthServer.Hosting;
using AuthServer.Tokens;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.AspNetCore.WebUtilities;
using OpenIddict.Abstractions;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace AuthServer.Pages.Consent;

/// <summary>
/// Asks the signed-in user whether a third-party application may have the scopes it asked for. The decision is
/// remembered as a permanent OpenIddict authorization per user and client. Either way the user goes back to the
/// authorization request, which OpenIddict validates again: a forged return URL can only ever lead to the client's
/// registered redirect URI.
/// </summary>
[Authorize]
public sealed class IndexModel(
    ClientStore clients, ScopeCatalog scopes, IOpenIddictApplicationManager applications, IOpenIddictAuthorizationManager authorizations,
    TimeProvider clock) : PageModel
{
    /// <summary>Added to the authorization request when the user denies; the endpoint then answers access_denied.</summary>
    public const string DeniedParameter = "consent_denied";

    [BindProperty(SupportsGet = true)]
    public string? ReturnUrl { get; set; }

    public string? ClientName { get; private set; }

    /// <summary>The logo the client registered (https), shown beside its name.</summary>
    public string? ClientLogo { get; private set; }
    public IReadOnlyList<string> ScopeDescriptions { get; private set; } = [];
    public string? Problem { get; private set; }

    private string UserId => User.FindFirst(System.Security.Claims.ClaimTypes.NameIdentifier)!.Value;

    public IActionResult OnGet()
    {
        if (Load() is not var (client, requested)) return Page();
        ClientName = client.DisplayName;
        ClientLogo = client.LogoUri;
        ScopeDescriptions = requested.Select(scopes.Describe).ToList();
        return Page();
    }

    public async Task<IActionResult> OnPostAllowAsync()
    {
        if (Load() is not var (client, requested)) return Page();
        var application = await applications.FindByClientIdAsync(client.ClientId) ?? throw new InvalidOperationException("The client is gone.");
        var consent = new OpenIddictAuthorizationDescriptor
        {
            ApplicationId = await applications.GetIdAsync(application),
            CreationDate = clock.GetUtcNow(),
            Status = Statuses.Valid,
            Subject = UserId,
            Type = AuthorizationTypes.Permanent,
        };
        consent.Scopes.UnionWith(requested);
        await authorizations.CreateAsync(consent);
        return LocalRedirect(ReturnUrl!);
    }

    public IActionResult OnPostDeny()
    {
        if (Load() is null) return Page();
        return LocalRedirect(QueryHelpers.AddQueryString(ReturnUrl!, DeniedParameter, "1"));
    }

    /// <summary>The client and the scopes (those it may ask for) behind <see cref="ReturnUrl"/>, or null with <see cref="Problem"/> set.</summary>
    private (Client Client, string[] Scopes)? Load()
    {
        if (ReturnUrl is null || !ReturnUrl.StartsWith(OpenIddictSetup.AuthorizePath + "?", StringComparison.Ordinal) || !Url.IsLocalUrl(ReturnUrl))
        {
            Problem = "This page was opened without a sign-in request.";
            return null;
        }
        var query = QueryHelpers.ParseQuery(ReturnUrl[(ReturnUrl.IndexOf('?') + 1)..]);
        if (clients.Find(query.GetValueOrDefault("client_id").ToString()) is not { FirstParty: false } client)
        {
            Problem = "The sign-in request is not valid any more. Go back to the application and start again.";
            return null;
        }
        var requested = query.TryGetValue("scope", out var scope)
            ? scope.ToString().Split(' ', StringSplitOptions.RemoveEmptyEntries).Where(client.Scopes.Contains).Distinct().ToArray()
            : [.. client.Scopes];
        return (client, requested);
    }
}
