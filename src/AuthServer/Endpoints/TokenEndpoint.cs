using System.Security.Claims;
using AuthServer.Clients;
using AuthServer.Data;
using AuthServer.Data.Entities;
using AuthServer.Data.Stores;
using AuthServer.DeviceFlow;
using AuthServer.Handlers;
using AuthServer.Hosting;
using AuthServer.Tokens;
using Microsoft.AspNetCore;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;
using OpenIddict.Abstractions;
using OpenIddict.Server.AspNetCore;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace AuthServer.Endpoints;

/// <summary>
/// The token endpoint's passthrough (RFC 6749 §3.2). OpenIddict has authenticated the client and validated the code,
/// device code or refresh token; here the account is checked again at the moment tokens are issued, the principal is
/// built fresh from it, and a device code's login request moves to Redeemed, once.
/// </summary>
public static class TokenEndpoint
{
    public static async Task<IResult> HandleAsync(
        HttpContext context, AuthServerDbContext db, ReadAccounts accounts, IOpenIddictAuthorizationManager authorizations, IOptions<Hosting.TokenOptions> options,
        TimeProvider clock)
    {
        var request = context.GetOpenIddictServerRequest()
            ?? throw new InvalidOperationException("The OpenIddict request is missing.");

        if (request.IsClientCredentialsGrantType())
        {
            // RFC 6749 §4.4: a confidential service acts for itself; the client is the subject.
            var identity = new ClaimsIdentity(OpenIddictServerAspNetCoreDefaults.AuthenticationScheme, Claims.Name, Claims.Role);
            identity.SetClaim(Claims.Subject, request.ClientId);
            var service = new ClaimsPrincipal(identity);
            service.SetScopes(request.GetScopes());
            service.SetAudiences(options.Value.Audience);
            service.SetDestinations(_ => [Destinations.AccessToken]);
            return Results.SignIn(service, authenticationScheme: OpenIddictServerAspNetCoreDefaults.AuthenticationScheme);
        }

        var presented = (await context.AuthenticateAsync(OpenIddictServerAspNetCoreDefaults.AuthenticationScheme)).Principal
            ?? throw new InvalidOperationException("OpenIddict passed a grant through without its principal.");

        // The account may have been deleted or locked since the grant; lockout is judged by the server's clock.
        var user = await Accounts.FindAsync(db, accounts, presented.GetClaim(Claims.Subject), context.RequestAborted);
        if (user is null || Accounts.IsLockedOut(user, clock.GetUtcNow()))
            return ProtocolRefusal.Of(Errors.InvalidGrant, "The account is not available.");

        // A device code's row was created before its device (the approval creates it), so OpenIddict restores no
        // authorization for it; the approval wrote the device into the code itself.
        var deviceId = presented.GetAuthorizationId() ?? presented.GetClaim(TokenClaims.DeviceId)
            ?? throw new InvalidOperationException("A grant without its linked device reached the token endpoint.");
        if (request.IsDeviceCodeGrantType())
        {
            // The login request follows the device code once OpenIddict has redeemed it (TokenHandlers.FollowRedemption).
            // Refusing a losing poll here would make OpenIddict reject the code for the winner too.
            TokenHandlers.LoginRequestOf(context, presented.GetTokenId() ?? throw new InvalidOperationException("A device code without its token id."));
        }

        // RFC 6749 §6: the grant keeps its scopes; a narrower scope asked for applies to this access token only, which
        // OpenIddict takes care of.
        var principal = AccountPrincipal.Create(user, presented.GetScopes(), AccountPrincipal.AuthTime(presented) ?? clock.GetUtcNow(), options.Value);
        principal.SetAuthorizationId(deviceId);
        if (presented.GetClaim(TokenClaims.FamilyExpiresAt) is { } familyEnd) principal.SetClaim(TokenClaims.FamilyExpiresAt, familyEnd);
        await LinkedDevices.TouchAsync(db, authorizations, deviceId, context, clock.GetUtcNow(), context.RequestAborted);
        return Results.SignIn(principal, authenticationScheme: OpenIddictServerAspNetCoreDefaults.AuthenticationScheme);
    }
}
