using System.Security.Claims;
using AuthServer.Data.Entities;
using AuthServer.Hosting;
using OpenIddict.Abstractions;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace AuthServer.Tokens;

/// <summary>
/// The principal OpenIddict issues tokens for: the account, the scopes granted, and where each claim may go. Built
/// fresh from the account at every sign-in (authorization, verification, token endpoint), so a changed name or
/// e-mail shows in the next tokens, and nothing from an older token is trusted blindly.
/// </summary>
public static class AccountPrincipal
{
    public static ClaimsPrincipal Create(ApplicationUser user, IEnumerable<string> scopes, DateTimeOffset authTime, TokenOptions options)
    {
        var identity = new ClaimsIdentity(
            authenticationType: OpenIddict.Server.AspNetCore.OpenIddictServerAspNetCoreDefaults.AuthenticationScheme,
            nameType: Claims.Name, roleType: Claims.Role);
        var granted = scopes.ToHashSet(StringComparer.Ordinal);
        identity.SetClaim(Claims.Subject, user.Id);
        identity.SetClaim(Claims.AuthenticationTime, authTime.ToUnixTimeSeconds());

        // OIDC Core §5.4: what each scope releases, in the ID token (and at userinfo, which reads the account).
        if (granted.Contains(Scopes.Profile))
        {
            identity.SetClaim(Claims.Name, user.DisplayName ?? user.UserName ?? user.Id);
            if (user.UserName is { } userName) identity.SetClaim(Claims.PreferredUsername, userName);
        }
        if (granted.Contains(Scopes.Email) && user.Email is { } email)
        {
            identity.SetClaim(Claims.Email, email);
            identity.SetClaim(Claims.EmailVerified, user.EmailConfirmed);
        }

        var principal = new ClaimsPrincipal(identity);
        principal.SetScopes(granted);
        // RFC 9068 §2.2: access tokens name the resource servers that accept them.
        principal.SetAudiences(options.Audience);
        principal.SetDestinations(claim => claim.Type switch
        {
            Claims.Subject => [Destinations.AccessToken, Destinations.IdentityToken],
            Claims.AuthenticationTime => [Destinations.AccessToken, Destinations.IdentityToken],
            Claims.Name or Claims.PreferredUsername or Claims.Email or Claims.EmailVerified => [Destinations.IdentityToken],
            _ => [],
        });
        return principal;
    }

    /// <summary>The <c>auth_time</c> a token carries (OIDC Core §2), or null.</summary>
    public static DateTimeOffset? AuthTime(ClaimsPrincipal principal) =>
        long.TryParse(principal.GetClaim(Claims.AuthenticationTime), out var seconds) ? DateTimeOffset.FromUnixTimeSeconds(seconds) : null;
}
