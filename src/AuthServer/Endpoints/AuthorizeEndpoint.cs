using System.Security.Claims;
using AuthServer.Clients;
using AuthServer.Data.Entities;
using AuthServer.Handlers;
using AuthServer.Hosting;
using AuthServer.Tokens;
using Microsoft.AspNetCore;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Options;
using OpenIddict.Abstractions;
using OpenIddict.Server.AspNetCore;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace AuthServer.Endpoints;

/// <summary>
/// The authorization endpoint's passthrough (RFC 6749 §4.1.1, OIDC Core §3.1.2). OpenIddict has validated the client,
/// the redirect URI, PKCE (S256) and the scopes; here the user signs in (our Identity pages), a third-party client gets
/// the user's consent once (remembered as a permanent OpenIddict authorization), and the sign-in becomes a code.
/// </summary>
public static class AuthorizeEndpoint
{
    public const string ConsentPage = "/consent";

    public static async Task<IResult> HandleAsync(
        HttpContext context, SignInManager<ApplicationUser> signIn, ClientStore clients, IOpenIddictAuthorizationManager authorizations,
        IOpenIddictApplicationManager applications, IOptions<Hosting.TokenOptions> options, TimeProvider clock)
    {
        var request = context.GetOpenIddictServerRequest() ?? throw new InvalidOperationException("The OpenIddict request is missing.");
        var client = clients.Find(request.ClientId) ?? throw new InvalidOperationException("OpenIddict passed an unknown client through.");

        if (!LinkedDevices.TryReadName((string?)request[DeviceAuthorizationHandlers.DeviceNameParameter], out var deviceName))
            return ProtocolRefusal.Of(Errors.InvalidRequest, LinkedDevices.NameRule);

        // RFC 9449 §10: the client binds the code to its DPoP key from the start; redeeming it then needs a proof from it.
        var dpopJkt = (string?)request[DeviceAuthorizationHandlers.DpopJktParameter];
        if (dpopJkt is not null && !TokenClaims.IsThumbprint(dpopJkt))
            return ProtocolRefusal.Of(Errors.InvalidRequest, TokenClaims.ThumbprintRule);

        var authentication = await context.AuthenticateAsync(IdentityConstants.ApplicationScheme);
        var user = authentication.Succeeded ? await signIn.UserManager.GetUserAsync(authentication.Principal) : null;
        if (user is not null && Accounts.IsLockedOut(user, clock.GetUtcNow())) user = null;

        if (request.HasPromptValue(PromptValues.None) && user is null)
            return ProtocolRefusal.Of(Errors.LoginRequired, "The user is not signed in.");

        // prompt=login asks for a fresh sign-in; the return URL drops it so the sign-in is not asked for again.
        if (user is null || request.HasPromptValue(PromptValues.Login))
        {
            if (user is not null) await signIn.SignOutAsync();
            return Results.Challenge(new AuthenticationProperties { RedirectUri = ReturnUrl(context, drop: "prompt") },
                [IdentityConstants.ApplicationScheme]);
        }

        if (request[Pages.Consent.IndexModel.DeniedParameter] is not null)
            return ProtocolRefusal.Of(Errors.AccessDenied, "The user denied the request.");

        var scopes = request.GetScopes();
        if (!client.FirstParty
            && (request.HasPromptValue(PromptValues.Consent) || !await HasConsentAsync(authorizations, applications, user.Id, client.ClientId, scopes)))
        {
            if (request.HasPromptValue(PromptValues.None))
                return ProtocolRefusal.Of(Errors.ConsentRequired, "The user has not consented to this application.");
            return Results.Redirect(QueryHelpers.AddQueryString(ConsentPage, "returnUrl", ReturnUrl(context, drop: "prompt")));
        }

        var principal = AccountPrincipal.Create(user, scopes, authentication.Properties?.IssuedUtc ?? clock.GetUtcNow(), options.Value);
        if (dpopJkt is not null) principal.SetClaim(TokenClaims.AuthorizationCodeJkt, dpopJkt);
        // The linked device this sign-in creates is the app on the caller's device (the phone, or the web app).
        new LinkedDeviceInfo(deviceName, context.Connection.RemoteIpAddress?.ToString(),
            LinkedDevices.Truncate(context.Request.Headers.UserAgent.ToString())).AttachTo(context);
        return Results.SignIn(principal, authenticationScheme: OpenIddictServerAspNetCoreDefaults.AuthenticationScheme);
    }

    /// <summary>A third-party client needs the user's consent for every scope it asks for; remembered per client.</summary>
    public static async Task<bool> HasConsentAsync(
        IOpenIddictAuthorizationManager authorizations, IOpenIddictApplicationManager applications, string userId, string clientId,
        IEnumerable<string> scopes)
    {
        if (await applications.FindByClientIdAsync(clientId) is not { } application) return false;
        var applicationId = await applications.GetIdAsync(application);
        var wanted = scopes.ToHashSet(StringComparer.Ordinal);
        await foreach (var consent in authorizations.FindAsync(userId, applicationId, Statuses.Valid, AuthorizationTypes.Permanent, scopes: null))
        {
            if (wanted.IsSubsetOf(await authorizations.GetScopesAsync(consent))) return true;
        }
        return false;
    }

    /// <summary>This request again, as a local URL, without <paramref name="drop"/>.</summary>
    public static string ReturnUrl(HttpContext context, string drop)
    {
        var parameters = (HttpMethods.IsPost(context.Request.Method) && context.Request.HasFormContentType
                ? context.Request.Form.AsEnumerable()
                : context.Request.Query.AsEnumerable())
            .Where(p => p.Key != drop)
            .SelectMany(p => p.Value.Select(v => new KeyValuePair<string, string?>(p.Key, v)));
        return QueryHelpers.AddQueryString(OpenIddictSetup.AuthorizePath, parameters);
    }

}
