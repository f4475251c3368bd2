using AuthServer.Data.Entities;
using AuthServer.Tokens;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Identity;
using OpenIddict.Abstractions;
using OpenIddict.Server.AspNetCore;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace AuthServer.Endpoints;

/// <summary>
/// The userinfo endpoint's passthrough (OIDC Core §5.3): OpenIddict has found and validated the access token (Bearer,
/// RFC 6750 §2.1–2.2, or DPoP, RFC 9449 §7); here its DPoP binding is checked and the account's claims are released as
/// the token's scopes allow (§5.4).
/// </summary>
public static class UserinfoEndpoint
{
    public static async Task<IResult> HandleAsync(HttpContext context, AccessTokenAuthentication authentication, UserManager<ApplicationUser> users)
    {
        var principal = (await context.AuthenticateAsync(OpenIddictServerAspNetCoreDefaults.AuthenticationScheme)).Principal;
        var scheme = AccessTokenAuthentication.SchemeOf(context.Request) ?? "Bearer";
        if (principal is null) return new Refused(AccessTokenAuthentication.Invalid(scheme));
        var (token, refusal) = await authentication.CheckBindingAsync(context.Request, principal, scheme);
        if (refusal is not null) return new Refused(refusal);

        // §5.3.1: userinfo answers only for tokens that were granted openid.
        if (!token!.Scopes.Contains(Scopes.OpenId))
            return new Refused(new TokenRefusal("insufficient_scope", "The access token lacks the openid scope.", scheme), StatusCodes.Status403Forbidden);
        if (await users.FindByIdAsync(token.Subject) is not { } user)
            return new Refused(new TokenRefusal("invalid_token", "The user no longer exists.", scheme));

        var body = AccountPrincipal.ReleasedClaims(user, token.Scopes.ToHashSet(StringComparer.Ordinal));
        body[Claims.Subject] = user.Id;
        context.Response.Headers.CacheControl = "no-store";
        return TypedResults.Json(body);
    }

    /// <summary>RFC 6750 §3: a challenge, with the error as JSON too.</summary>
    private sealed class Refused(TokenRefusal refusal, int status = StatusCodes.Status401Unauthorized) : IResult
    {
        public Task ExecuteAsync(HttpContext context)
        {
            AccessTokenAuthentication.Challenge(context.Response, refusal);
            context.Response.StatusCode = status;
            context.Response.Headers.CacheControl = "no-store";
            return refusal.Error is null
                ? Task.CompletedTask
                : context.Response.WriteAsJsonAsync(new Dictionary<string, string> { ["error"] = refusal.Error, ["error_description"] = refusal.Description! });
        }
    }
}
