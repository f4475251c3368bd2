using AuthServer.Data.Entities;
using AuthServer.Tokens;
using Microsoft.AspNetCore.Identity;

namespace AuthServer.Protocol;

/// <summary>
/// <c>GET</c>/<c>POST /connect/userinfo</c> (OIDC Core §5.3): the signed-in user's claims, as the access token's scopes
/// allow. The token comes in the Authorization header (Bearer, RFC 6750 §2.1, or DPoP, RFC 9449 §7) or, on POST, as
/// a form parameter (RFC 6750 §2.2).
/// </summary>
public static class UserinfoEndpoint
{
    public const string Path = "/connect/userinfo";

    public static async Task<IResult> HandleAsync(HttpContext context, AccessTokenValidator validator, UserManager<ApplicationUser> users)
    {
        // RFC 6750 §2: one method per request; the body is read only when there is no Authorization header.
        var bodyToken = context.Request.Headers.Authorization.Count == 0 ? await ReadBodyTokenAsync(context.Request) : null;
        var (token, refusal) = await validator.AuthenticateAsync(context.Request, bodyToken);
        if (refusal is not null) return new Refused(refusal);

        // §5.3.1: userinfo answers only for tokens that were granted openid.
        if (!token!.Scopes.Contains(ScopeCatalog.OpenId))
            return new Refused(new TokenRefusal("insufficient_scope", "The access token lacks the openid scope.", "Bearer"), StatusCodes.Status403Forbidden);

        var user = await users.FindByIdAsync(token.Subject);
        if (user is null)
            return new Refused(new TokenRefusal("invalid_token", "The user no longer exists.", "Bearer"));

        return ProtocolResponse.Json(UserClaims.For(user, token.Scopes));
    }

    private static async Task<string?> ReadBodyTokenAsync(HttpRequest request)
    {
        if (!HttpMethods.IsPost(request.Method) || !request.HasFormContentType) return null;
        try
        {
            var form = await request.ReadFormAsync(request.HttpContext.RequestAborted);
            return form["access_token"] is { Count: 1 } value && !string.IsNullOrEmpty(value) ? value.ToString() : null;
        }
        catch (Exception ex) when (ex is InvalidDataException or IOException or BadHttpRequestException)
        {
            return null;
        }
    }

    /// <summary>RFC 6750 §3: a challenge, with the error as JSON too when a token was presented.</summary>
    private sealed class Refused(TokenRefusal refusal, int status = StatusCodes.Status401Unauthorized) : IResult
    {
        public Task ExecuteAsync(HttpContext context)
        {
            AccessTokenValidator.Challenge(context.Response, refusal);
            context.Response.StatusCode = status;
            ProtocolResponse.NoStore(context.Response);
            return refusal.Error is null
                ? Task.CompletedTask
                : context.Response.WriteAsJsonAsync(new Dictionary<string, string> { ["error"] = refusal.Error, ["error_description"] = refusal.Description! });
        }
    }
}
