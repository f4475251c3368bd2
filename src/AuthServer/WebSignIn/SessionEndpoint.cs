using AuthServer.Data;
using AuthServer.Data.Entities;
using AuthServer.DeviceFlow;
using AuthServer.Tokens;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;

namespace AuthServer.WebSignIn;

/// <summary>
/// <c>POST /account/qr-signin</c>: the last step of a QR sign-in of this browser. The page's script has redeemed its
/// device code at the token endpoint like any RFC 8628 client (so OpenIddict validated everything that led to the
/// tokens) and presents the access token here, from the same origin, with the page's antiforgery token and the
/// browser's binding cookie. Once per login request, the browser gets the server's session cookie, and the answer
/// says where to go next: the page's return URL when it is local, else the home page.
/// </summary>
public static class SessionEndpoint
{
    public const string Path = "/account/qr-signin";
    public const string ReturnUrlField = "return_url";

    public sealed record Answer(string Location);

    public static IEndpointRouteBuilder MapWebSignIn(this IEndpointRouteBuilder app)
    {
        app.MapPost(Path, ExchangeAsync).DisableAntiforgery().ExcludeFromDescription();
        return app;
    }

    public static async Task<Results<Ok<Answer>, ProblemHttpResult>> ExchangeAsync(
        HttpContext context, IAntiforgery antiforgery, AccessTokenAuthentication tokens, AuthServerDbContext db,
        SignInManager<ApplicationUser> signIn, TimeProvider clock, ILogger<SessionEndpointLog> logger)
    {
        // The antiforgery check is done here rather than by the endpoint filter so that a failure is problem details.
        if (!context.Request.HasFormContentType || !await antiforgery.IsRequestValidAsync(context))
            return Problem(context, StatusCodes.Status400BadRequest, "The request did not come from this server's sign-in page.",
                "Send the page's antiforgery token in a form POST from the same origin.");

        var (token, _) = await tokens.AuthenticateAsync(context);
        if (token is null || token.ClientId != BrowserBinding.ClientId)
            return Problem(context, StatusCodes.Status401Unauthorized, "No valid access token of the sign-in page.",
                "Present the access token the page's own device code was redeemed for, as a Bearer token.");

        // The token's linked device leads to its login request; the binding is checked against this browser's cookie.
        var request = await (from binding in db.BrowserSignIns.AsNoTracking()
                             join login in db.DeviceAuthorizations.AsNoTracking() on binding.Id equals login.Id
                             where login.LinkedDeviceId == token.DeviceId && login.ClientId == BrowserBinding.ClientId
                                 && login.Status == DeviceAuthorizationStatus.Redeemed && login.SubjectId == token.Subject
                             select new { binding.Id, binding.BindingHash, binding.SessionIssuedAt })
            .FirstOrDefaultAsync(context.RequestAborted);
        if (request is null || !BrowserBinding.Matches(context.Request, request.BindingHash))
            return Problem(context, StatusCodes.Status403Forbidden, "This sign-in belongs to another browser.",
                "Only the browser that showed the QR code can be signed in by it.");

        var user = await signIn.UserManager.FindByIdAsync(token.Subject);
        var now = clock.GetUtcNow();
        if (user is null || Accounts.IsLockedOut(user, now))
            return Problem(context, StatusCodes.Status403Forbidden, "This account cannot sign in.", "The account is locked or no longer exists.");

        // Single use: of concurrent exchanges exactly one moves the row; the others find it used. The audit event
        // commits with the move.
        await using (var transaction = await db.BeginWriteAsync(context.RequestAborted))
        {
            var won = await db.BrowserSignIns.Where(b => b.Id == request.Id && b.SessionIssuedAt == null)
                .ExecuteUpdateAsync(set => set.SetProperty(b => b.SessionIssuedAt, now), context.RequestAborted);
            if (won == 0)
                return Problem(context, StatusCodes.Status409Conflict, "This sign-in has already been used.", "Scan a new QR code to sign in again.");
            await Audit.WriteAsync(db, Audit.SignInSucceeded, now, user.Id, BrowserBinding.ClientId,
                "Signed this browser in by scanning its QR code with the phone.", context.RequestAborted);
            await transaction.CommitAsync(context.RequestAborted);
        }

        // The session belongs to the page's linked device: logging that device out ends it (BrowserSession).
        await signIn.SignInWithClaimsAsync(user, isPersistent: false, [new System.Security.Claims.Claim(TokenClaims.DeviceId, token.DeviceId)]);
        logger.LogInformation("Browser signed in by QR scan");

        var form = await context.Request.ReadFormAsync(context.RequestAborted);
        return TypedResults.Ok(new Answer(LocalOrHome(form[ReturnUrlField])));
    }

    /// <summary>
    /// A return URL this server may send the browser to: a path on this origin. A scheme-relative (<c>//host</c>) or
    /// backslash form would leave it (an open redirector, RFC 9700 §4.11), so anything else means the home page.
    /// </summary>
    public static string LocalOrHome(string? url) =>
        url is { Length: > 0 } && url[0] == '/' && !url.StartsWith("//", StringComparison.Ordinal)
            && !url.Contains('\\') && !url.Any(char.IsControl)
            ? url
            : "/";

    /// <summary>The title is what the sign-in page shows the reader, so it is in their language; the detail is for developers.</summary>
    private static ProblemHttpResult Problem(HttpContext context, int status, string title, string detail) =>
        TypedResults.Problem(statusCode: status, title: Localization.Languages.For(context)[title], detail: detail);

    /// <summary>The log category of the exchange.</summary>
    public sealed class SessionEndpointLog;
}
