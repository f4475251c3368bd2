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

        foreach (var (type, value) in ReleasedClaims(user, granted))
        {
            if (value is bool flag) identity.SetClaim(type, flag);
            else identity.SetClaim(type, (string)value);
        }

        var principal = new ClaimsPrincipal(identity);
        principal.SetScopes(granted);
        // RFC 9068 §2.2: access tokens name the resource servers that accept them.
        principal.SetAudiences(options.Audience);
        principal.SetDestinations(claim => claim.Type switch
        {
            Claims.Subject => [Destinations.AccessToken, Destinations.IdentityToken],
            Claims.AuthenticationTime => [Destinations.AccessToken, Destinations.IdentityToken],
            Claims.Name or Claims.PreferredUsername or Claims.Email or Claims.EmailVerified or Claims.PhoneNumber or Claims.PhoneNumberVerified
                => [Destinations.IdentityToken],
            _ => [],
        });
        return principal;
    }

    /// <summary>OIDC Core §5.4: the claims about the account that the granted scopes release (ID token, userinfo).</summary>
    public static Dictionary<string, object> ReleasedClaims(ApplicationUser user, IReadOnlySet<string> scopes)
    {
        var claims = new Dictionary<string, object>(StringComparer.Ordinal);
        if (scopes.Contains(Scopes.Profile))
        {
            claims[Claims.Name] = user.DisplayName ?? user.UserName ?? user.Id;
            if (user.UserName is { } userName) claims[Claims.PreferredUsername] = userName;
        }
        if (scopes.Contains(Scopes.Email) && user.Email is { } email)
        {
            claims[Claims.Email] = email;
            claims[Claims.EmailVerified] = user.EmailConfirmed;
        }
        if (scopes.Contains(Scopes.Phone) && user.PhoneNumber is { } phone)
        {
            claims[Claims.PhoneNumber] = phone;
            claims[Claims.PhoneNumberVerified] = user.PhoneNumberConfirmed;
        }
        return claims;
    }

    /// <summary>The <c>auth_time</c> a token carries (OIDC Core §2), or null.</summary>
    public static DateTimeOffset? AuthTime(ClaimsPrincipal principal) =>
        long.TryParse(principal.GetClaim(Claims.AuthenticationTime), out var seconds) ? DateTimeOffset.FromUnixTimeSeconds(seconds) : null;
}
