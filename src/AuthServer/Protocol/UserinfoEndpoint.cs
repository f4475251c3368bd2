using System.Net.Http.Headers;
using AuthServer.Data.Entities;
using AuthServer.Tokens;
using Microsoft.AspNetCore.Identity;

namespace AuthServer.Protocol;

/// <summary>
/// <c>GET</c>/<c>POST /connect/userinfo</c> (OIDC Core §5.3): the signed-in user's claims, as the access token's scopes
/// allow. The token comes as a Bearer header (RFC 6750 §2.1) or, on POST, as a form parameter (§2.2).
/// </summary>
public static class UserinfoEndpoint
{
    public const string Path = "/connect/userinfo";

    public static async Task<IResult> HandleAsync(HttpContext context, AccessTokenValidator validator, UserManager<ApplicationUser> users)
    {
        if (await ReadTokenAsync(context.Request) is not { } token)
            return new BearerChallenge(null, null);

        var validated = await validator.ValidateAsync(context.Request, token);
        if (validated is null)
            return new BearerChallenge("invalid_token", "The access token is not valid.");

        // §5.3.1: userinfo answers only for tokens that were granted openid.
        if (!validated.Scopes.Contains(ScopeCatalog.OpenId))
            return new BearerChallenge("insufficient_scope", "The access token lacks the openid scope.", StatusCodes.Status403Forbidden);

        var user = await users.FindByIdAsync(validated.Subject);
        if (user is null)
            return new BearerChallenge("invalid_token", "The user no longer exists.");

        return ProtocolResponse.Json(UserClaims.For(user, validated.Scopes));
    }

    private static async Task<string?> ReadTokenAsync(HttpRequest request)
    {
        if (AuthenticationHeaderValue.TryParse(request.Headers.Authorization, out var header)
            && string.Equals(header.Scheme, "Bearer", StringComparison.OrdinalIgnoreCase)
            && !string.IsNullOrEmpty(header.Parameter))
            return header.Parameter;

        if (HttpMethods.IsPost(request.Method) && request.HasFormContentType)
        {
            try
            {
                var form = await request.ReadFormAsync(request.HttpContext.RequestAborted);
                if (form["access_token"] is { Count: 1 } value && !string.IsNullOrEmpty(value)) return value.ToString();
            }
            catch (Exception ex) when (ex is InvalidDataException or IOException or BadHttpRequestException)
            {
                return null;
            }
        }
        return null;
    }

    /// <summary>RFC 6750 §3: a Bearer challenge, with an error code when a token was presented.</summary>
    private sealed class BearerChallenge(string? error, string? description, int status = StatusCodes.Status401Unauthorized) : IResult
    {
        public Task ExecuteAsync(HttpContext context)
        {
            context.Response.StatusCode = status;
            ProtocolResponse.NoStore(context.Response);
            context.Response.Headers.WWWAuthenticate = error is null
                ? "Bearer"
                : $"Bearer error=\"{error}\", error_description=\"{description}\"";
            return error is null
                ? Task.CompletedTask
                : context.Response.WriteAsJsonAsync(new Dictionary<string, string> { ["error"] = error, ["error_description"] = description! });
        }
    }
}
