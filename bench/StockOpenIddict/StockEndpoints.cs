using System.Security.Claims;
using Microsoft.AspNetCore;
using Microsoft.AspNetCore.Authentication;
using Microsoft.IdentityModel.Tokens;
using OpenIddict.Abstractions;
using OpenIddict.Server.AspNetCore;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace StockOpenIddict;

/// <summary>
/// The two passthrough endpoints a device-flow server on OpenIddict writes itself: the end-user verification endpoint
/// (RFC 8628 §3.3), where the user approves a user code, and the token endpoint (RFC 8628 §3.4, RFC 6749 §6), where
/// OpenIddict has already validated the grant and the application issues the tokens.
/// </summary>
public static class StockEndpoints
{
    public const string ClientId = "demo-tv";

    /// <summary>The one user every benchmark login approves as.</summary>
    private const string DemoUserId = "demo-user";
    private const string DemoUserName = "demo";
    private const string DemoUserEmail = "demo@example.com";

    public static IEndpointRouteBuilder MapStockEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapPost("/connect/verify", ApproveAsync);
        // As a Delegate, not a RequestDelegate, so that the returned result is written to the response.
        app.MapPost("/connect/token", (Delegate)ExchangeAsync);
        return app;
    }

    /// <summary>
    /// Approves the posted user code for the demo user. The samples put this action behind a cookie sign-in and an
    /// antiforgery form; a benchmark has no browser to carry either, and the cost it measures is OpenIddict's, so the
    /// approval acts for a fixed user instead. What follows the sign-in check is the samples' approval unchanged: the
    /// user code's principal from OpenIddict, a new identity with the user's claims, the requested scopes and their
    /// resources, destinations per claim, and SignIn through OpenIddict.
    /// </summary>
    private static async Task<IResult> ApproveAsync(HttpContext context, IOpenIddictScopeManager scopes)
    {
        var result = await context.AuthenticateAsync(OpenIddictServerAspNetCoreDefaults.AuthenticationScheme);
        // An unknown, expired or used user code still authenticates, with a principal that holds no device code.
        if (!result.Succeeded || result.Principal?.GetClaim(Claims.Private.DeviceCodeId) is null)
        {
            return Results.BadRequest(new Dictionary<string, string>
            {
                [Parameters.Error] = Errors.InvalidToken,
                [Parameters.ErrorDescription] = "The user code is not valid.",
            });
        }

        var identity = new ClaimsIdentity(TokenValidationParameters.DefaultAuthenticationType, Claims.Name, Claims.Role);
        identity.AddClaim(Claims.Subject, DemoUserId)
            .AddClaim(Claims.Name, DemoUserName)
            .AddClaim(Claims.Email, DemoUserEmail);
        identity.SetScopes(result.Principal.GetScopes());
        identity.SetResources(await scopes.ListResourcesAsync(identity.GetScopes(), context.RequestAborted).ToListAsync(context.RequestAborted));
        identity.SetDestinations(DestinationsOf);

        // With no redirect address, OpenIddict answers the approval with an empty 200.
        return Results.SignIn(new ClaimsPrincipal(identity), properties: null, OpenIddictServerAspNetCoreDefaults.AuthenticationScheme);
    }

    /// <summary>
    /// Issues tokens for a device code or a refresh token that OpenIddict has already validated: the principal stored
    /// with the grant, its destinations set again, signed in through OpenIddict. The samples also reload the user here
    /// and check they may still sign in; the fixed demo user has no account to reload.
    /// </summary>
    private static async Task<IResult> ExchangeAsync(HttpContext context)
    {
        var request = context.GetOpenIddictServerRequest();
        if (request is null || !(request.IsDeviceCodeGrantType() || request.IsRefreshTokenGrantType()))
        {
            // OpenIddict refuses the grant types this server does not allow before this endpoint runs (RFC 6749 §5.2).
            return Results.Forbid(new AuthenticationProperties(new Dictionary<string, string?>
            {
                [OpenIddictServerAspNetCoreConstants.Properties.Error] = Errors.UnsupportedGrantType,
                [OpenIddictServerAspNetCoreConstants.Properties.ErrorDescription] = "The grant type is not supported.",
            }), [OpenIddictServerAspNetCoreDefaults.AuthenticationScheme]);
        }

        var principal = (await context.AuthenticateAsync(OpenIddictServerAspNetCoreDefaults.AuthenticationScheme)).Principal;
        if (principal is null)
        {
            return Results.Forbid(new AuthenticationProperties(new Dictionary<string, string?>
            {
                [OpenIddictServerAspNetCoreConstants.Properties.Error] = Errors.InvalidGrant,
                [OpenIddictServerAspNetCoreConstants.Properties.ErrorDescription] = "The grant is no longer valid.",
            }), [OpenIddictServerAspNetCoreDefaults.AuthenticationScheme]);
        }

        principal.SetDestinations(DestinationsOf);
        return Results.SignIn(principal, properties: null, OpenIddictServerAspNetCoreDefaults.AuthenticationScheme);
    }

    /// <summary>
    /// Which tokens carry a claim: OpenIddict copies a claim into a token only when told to. Name and email go into the
    /// access token, and into the ID token when the matching scope was granted (OpenID Connect Core §5.4).
    /// </summary>
    private static IEnumerable<string> DestinationsOf(Claim claim) => claim.Type switch
    {
        Claims.Name when claim.Subject?.HasScope(Scopes.Profile) == true => [Destinations.AccessToken, Destinations.IdentityToken],
        Claims.Email when claim.Subject?.HasScope(Scopes.Email) == true => [Destinations.AccessToken, Destinations.IdentityToken],
        _ => [Destinations.AccessToken],
    };
}
