using AuthServer.Data.Entities;
using Microsoft.IdentityModel.JsonWebTokens;

namespace AuthServer.Tokens;

/// <summary>The claims about a user that each scope releases (OIDC Core §5.4).</summary>
public static class UserClaims
{
    public static Dictionary<string, object> For(ApplicationUser user, IEnumerable<string> scopes)
    {
        var claims = new Dictionary<string, object> { [JwtRegisteredClaimNames.Sub] = user.Id };
        var granted = scopes.ToHashSet(StringComparer.Ordinal);
        if (granted.Contains(ScopeCatalog.Profile))
        {
            claims["name"] = user.DisplayName ?? user.UserName ?? user.Id;
            if (user.UserName is { } userName) claims["preferred_username"] = userName;
        }
        if (granted.Contains(ScopeCatalog.Email) && user.Email is { } email)
        {
            claims["email"] = email;
            claims["email_verified"] = user.EmailConfirmed;
        }
        return claims;
    }
}
