using Microsoft.AspNetCore.Authentication;
using OpenIddict.Server.AspNetCore;

namespace AuthServer.Endpoints;

/// <summary>How a passthrough endpoint refuses: OpenIddict writes the error the way its endpoint does (RFC 6749 §5.2, or §4.1.2.1 on the redirect URI).</summary>
public static class ProtocolRefusal
{
    public static IResult Of(string error, string description) => Results.Forbid(
        new AuthenticationProperties(new Dictionary<string, string?>
        {
            [OpenIddictServerAspNetCoreConstants.Properties.Error] = error,
            [OpenIddictServerAspNetCoreConstants.Properties.ErrorDescription] = description,
        }),
        [OpenIddictServerAspNetCoreDefaults.AuthenticationScheme]);
}
