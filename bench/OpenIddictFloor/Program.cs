using System.Security.Claims;
using System.Security.Cryptography;
using Microsoft.AspNetCore;
using Microsoft.AspNetCore.Authentication;
using Microsoft.IdentityModel.Tokens;
using OpenIddict.Abstractions;
using OpenIddict.Server;
using OpenIddict.Server.AspNetCore;
using static OpenIddict.Abstractions.OpenIddictConstants;

// What OpenIddict 7.8.0 itself costs per refresh grant on this machine, with nothing of ours and no database: degraded
// mode, no token storage, the token formats AuthServer uses (an ES256-signed at+jwt access token, a Data Protection
// refresh token) and a passthrough token endpoint that signs the same kind of principal in. Everything AuthServer
// spends per grant beyond this figure is its own (storage, its handlers, middleware), not OpenIddict's
// (docs/benchmarks.md, "OpenIddict's floor"). Without storage a refresh token is not rotated out, so one token can be
// presented again and again: bench/floor.sh drives it with wrk. Not a server to deploy: it authenticates nobody.
var builder = WebApplication.CreateBuilder([.. args, "--hostBuilder:reloadConfigOnChange=false"]);
builder.Logging.ClearProviders();
builder.Services.AddDataProtection();
builder.Services.AddOpenIddict()
    .AddServer(server =>
    {
        server.SetTokenEndpointUris("connect/token");
        // The password grant only hands bench/floor.sh its first refresh token.
        server.AllowPasswordFlow().AllowRefreshTokenFlow();
        server.EnableDegradedMode().DisableTokenStorage();
        server.AddSigningKey(new ECDsaSecurityKey(ECDsa.Create(ECCurve.NamedCurves.nistP256)))
            .AddEphemeralEncryptionKey()
            .DisableAccessTokenEncryption();
        server.UseDataProtection().PreferDefaultAccessTokenFormat();
        server.RegisterScopes(Scopes.OfflineAccess, Scopes.Profile);
        server.UseAspNetCore().EnableTokenEndpointPassthrough().DisableTransportSecurityRequirement();
        // Degraded mode leaves the client to the application: one public client.
        server.AddEventHandler<OpenIddictServerEvents.ValidateTokenRequestContext>(handler => handler.UseInlineHandler(context =>
        {
            if (context.ClientId != "floor-tv") context.Reject(Errors.InvalidClient, "Unknown client.");
            return default;
        }));
    });

var app = builder.Build();
app.UseAuthentication();
app.MapPost("/connect/token", async (HttpContext context) =>
{
    var request = context.GetOpenIddictServerRequest()!;
    var subject = "floor-user";
    IEnumerable<string> scopes = [Scopes.OfflineAccess, Scopes.Profile];
    if (request.IsRefreshTokenGrantType())
    {
        var presented = (await context.AuthenticateAsync(OpenIddictServerAspNetCoreDefaults.AuthenticationScheme)).Principal!;
        subject = presented.GetClaim(Claims.Subject)!;
        scopes = presented.GetScopes();
    }
    // About the principal AuthServer signs in (Tokens/AccountPrincipal): subject, name, a device id, the scopes.
    var identity = new ClaimsIdentity(OpenIddictServerAspNetCoreDefaults.AuthenticationScheme, Claims.Name, Claims.Role);
    identity.SetClaim(Claims.Subject, subject).SetClaim(Claims.Name, "Floor User").SetClaim("did", "floor-device");
    var principal = new ClaimsPrincipal(identity);
    principal.SetScopes(scopes);
    principal.SetDestinations(_ => [Destinations.AccessToken]);
    return Results.SignIn(principal, authenticationScheme: OpenIddictServerAspNetCoreDefaults.AuthenticationScheme);
});
app.MapGet("/health", () => "ok");
app.Run();
