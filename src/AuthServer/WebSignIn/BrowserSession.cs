using System.Security.Claims;
using AuthServer.Tokens;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Identity;
using OpenIddict.Abstractions;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace AuthServer.WebSignIn;

/// <summary>
/// A browser signed in by a QR scan is one of the account's linked devices, as the phone and the account pages list
/// it ("Chrome on Linux", client AuthServer): its session cookie carries that device's id, and lives only as long as
/// the device. Logging the device out (from the phone, <c>/account/devices</c> or the admin pages) ends the browser's
/// session at its next request, the way logging out a linked device ends its tokens (RFC 7009 §2.1 by analogy).
/// </summary>
public static class BrowserSession
{
    public static IServiceCollection AddBrowserSessions(this IServiceCollection services)
    {
        services.ConfigureApplicationCookie(options =>
        {
            var identity = options.Events.OnValidatePrincipal;
            options.Events.OnValidatePrincipal = async context =>
            {
                await identity(context);
                if (context.Principal is { } principal) await RejectWhenLoggedOutAsync(context, principal);
            };
        });
        // Identity's periodic refresh of the principal (security stamp) builds a new one from the account; the device
        // id must survive it.
        services.Configure<SecurityStampValidatorOptions>(options =>
        {
            var inner = options.OnRefreshingPrincipal;
            options.OnRefreshingPrincipal = async context =>
            {
                if (inner is not null) await inner(context);
                if (DeviceOf(context.CurrentPrincipal) is { } device && context.NewPrincipal?.Identity is ClaimsIdentity identity)
                    identity.AddClaim(new Claim(TokenClaims.DeviceId, device));
            };
        });
        return services;
    }

    /// <summary>The linked device a QR-signed-in session belongs to; null for a password sign-in.</summary>
    public static string? DeviceOf(ClaimsPrincipal? principal) => principal?.FindFirst(TokenClaims.DeviceId)?.Value;

    private static async Task RejectWhenLoggedOutAsync(CookieValidatePrincipalContext context, ClaimsPrincipal principal)
    {
        if (DeviceOf(principal) is not { } device) return;
        var authorizations = context.HttpContext.RequestServices.GetRequiredService<IOpenIddictAuthorizationManager>();
        var authorization = await authorizations.FindByIdAsync(device, context.HttpContext.RequestAborted);
        if (authorization is not null && await authorizations.HasStatusAsync(authorization, Statuses.Valid, context.HttpContext.RequestAborted))
            return;
        context.RejectPrincipal();
        await context.HttpContext.SignOutAsync(IdentityConstants.ApplicationScheme);
    }
}
