using AuthServer.Data;
using AuthServer.Data.Entities;
using AuthServer.DeviceFlow;
using AuthServer.Hosting;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.EntityFrameworkCore;

namespace AuthServer.Protocol;

/// <summary>
/// <c>GET</c>/<c>POST /connect/authorize</c>: the authorization endpoint (RFC 6749 §4.1.1, OIDC Core §3.1.2), code flow
/// with PKCE only. Signs the user in (Identity pages), asks third-party consent once, then returns a code.
/// </summary>
public static class AuthorizeEndpoint
{
    public const string Path = "/connect/authorize";
    public static readonly TimeSpan CodeLifetime = TimeSpan.FromSeconds(60);

    public static async Task<IResult> HandleAsync(
        HttpContext context,
        AuthorizationRequestValidator validator,
        SignInManager<ApplicationUser> signIn,
        AuthServerDbContext db,
        IssuerResolver issuers,
        TimeProvider clock)
    {
        // OIDC Core §3.1.2.1: the request may come as a GET query or a POSTed form.
        IEnumerable<KeyValuePair<string, Microsoft.Extensions.Primitives.StringValues>> raw = context.Request.Query;
        if (HttpMethods.IsPost(context.Request.Method))
        {
            try
            {
                raw = await context.Request.ReadFormAsync(context.RequestAborted);
            }
            catch (Exception ex) when (ex is InvalidDataException or IOException or BadHttpRequestException or InvalidOperationException)
            {
                return ShowError("invalid_request", "The request could not be read.");
            }
        }
        var issuer = issuers.Resolve(context.Request);

        AuthorizationRequest request;
        switch (validator.Validate(raw))
        {
            case AuthorizationValidation.ShowError show:
                return ShowError(show.Error, show.Description);
            case AuthorizationValidation.RedirectError error:
                return Results.Redirect(ErrorRedirect(error, issuer));
            case AuthorizationValidation.Valid valid:
                request = valid.Request;
                break;
            default:
                throw new InvalidOperationException("Unknown validation outcome.");
        }

        var authentication = await context.AuthenticateAsync(IdentityConstants.ApplicationScheme);
        var user = authentication.Succeeded ? await signIn.UserManager.GetUserAsync(authentication.Principal) : null;
        if (user is not null && await signIn.UserManager.IsLockedOutAsync(user)) user = null;

        if (request.Prompt.Contains("none") && user is null)
            return Results.Redirect(ErrorRedirect(request, issuer, "login_required", "The user is not signed in."));

        // prompt=login asks for a fresh sign-in; the return URL drops it so the sign-in is not asked for again.
        if (user is null || request.Prompt.Contains("login"))
        {
            if (user is not null) await signIn.SignOutAsync();
            return Results.Challenge(new AuthenticationProperties { RedirectUri = request.ToLocalUrl("prompt") },
                [IdentityConstants.ApplicationScheme]);
        }

        if (!request.Client.FirstParty && (request.Prompt.Contains("consent") || !await HasConsentAsync(db, user.Id, request)))
        {
            if (request.Prompt.Contains("none"))
                return Results.Redirect(ErrorRedirect(request, issuer, "consent_required", "The user has not consented to this application."));
            return Results.Redirect(QueryHelpers.AddQueryString("/consent", "returnUrl", request.ToLocalUrl("prompt")));
        }

        var code = OpaqueSecret.New();
        var now = clock.GetUtcNow();
        db.AuthorizationCodes.Add(new AuthorizationCode
        {
            Id = Guid.CreateVersion7(now).ToString("N"),
            CodeHash = OpaqueSecret.Hash(code),
            ClientId = request.Client.ClientId,
            UserId = user.Id,
            RedirectUri = request.RedirectUri,
            Scope = string.Join(' ', request.Scopes),
            CodeChallenge = request.CodeChallenge,
            Nonce = request.Nonce,
            DeviceName = request.DeviceName,
            AuthTime = authentication.Properties?.IssuedUtc ?? now,
            CreatedAt = now,
            ExpiresAt = now + CodeLifetime,
        });
        await db.SaveChangesAsync(context.RequestAborted);

        // RFC 9207: iss in the response lets the client detect a mix-up between authorization servers.
        return Results.Redirect(QueryHelpers.AddQueryString(request.RedirectUri, new Dictionary<string, string?>
        {
            ["code"] = code,
            ["state"] = request.State,
            ["iss"] = issuer,
        }.Where(p => p.Value is not null)));
    }

    private static IResult ShowError(string error, string description) =>
        Results.Redirect(QueryHelpers.AddQueryString("/authorize/error",
            new Dictionary<string, string?> { ["error"] = error, ["error_description"] = description }));

    /// <summary>A third-party client needs the user's consent for every scope it asks for (remembered per client).</summary>
    private static async Task<bool> HasConsentAsync(AuthServerDbContext db, string userId, AuthorizationRequest request)
    {
        var consent = await db.Consents.AsNoTracking().FirstOrDefaultAsync(c => c.UserId == userId && c.ClientId == request.Client.ClientId);
        return consent is not null && request.Scopes.All(consent.Scope.Split(' ').Contains);
    }

    public static string ErrorRedirect(AuthorizationRequest request, string issuer, string error, string description) =>
        ErrorRedirect(new AuthorizationValidation.RedirectError(request.RedirectUri, error, description, request.State), issuer);

    /// <summary>RFC 6749 §4.1.2.1: the error, its description and the state go back on the redirect URI.</summary>
    public static string ErrorRedirect(AuthorizationValidation.RedirectError error, string issuer) =>
        QueryHelpers.AddQueryString(error.RedirectUri, new Dictionary<string, string?>
        {
            ["error"] = error.Error,
            ["error_description"] = error.Description,
            ["state"] = error.State,
            ["iss"] = issuer,
        }.Where(p => p.Value is not null));
}
