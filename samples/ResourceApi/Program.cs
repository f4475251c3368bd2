// A resource API that accepts AuthServer's access tokens: JWTs (RFC 9068) verified by the framework's JWT bearer
// handler with the keys published at the authority's jwks_uri, as Bearer tokens or, when DPoP-bound, with a DPoP
// proof (RFC 9449) checked by the same library AuthServer uses.
using System.Security.Claims;
using AuthServer.Dpop;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Protocols;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;
using ResourceApi;

// A token signed by a key the cached key set lacks (the authority rotated) makes the handler fetch the keys again.
// Blocking, the fetch serves the very request that needed it; in the background, that request would fail first.
AppContext.SetSwitch("Switch.Microsoft.IdentityModel.UpdateConfigAsBlocking", true);

var builder = WebApplication.CreateBuilder(args);

builder.Services.AddOptions<ResourceApiOptions>()
    .Bind(builder.Configuration)
    .ValidateDataAnnotations()
    .Validate(o => Uri.TryCreate(o.Authority, UriKind.Absolute, out var uri) && uri.Query.Length == 0 && uri.Fragment.Length == 0
                   && (uri.Scheme == Uri.UriSchemeHttps || (uri.Scheme == Uri.UriSchemeHttp && !o.RequireHttpsMetadata)),
        "Authority must be the authorization server's issuer URL: absolute, https (unless RequireHttpsMetadata is false), without query or fragment.")
    // The handler's own lower bounds; below them it throws on the first request instead of at start-up.
    .Validate(o => o.KeySetLifetime >= ConfigurationManager<OpenIdConnectConfiguration>.MinimumAutomaticRefreshInterval,
        "KeySetLifetime must be at least 00:05:00.")
    .Validate(o => o.MinimumKeyRefreshInterval >= ConfigurationManager<OpenIdConnectConfiguration>.MinimumRefreshInterval,
        "MinimumKeyRefreshInterval must be at least 00:00:01.")
    .ValidateOnStart();

builder.Services.TryAddSingleton(TimeProvider.System);
// RFC 9449 §9 leaves nonces at a resource server optional; this API asks for none (AuthServer's protect its token
// endpoint). htu is this request's own URL.
builder.Services.AddDpopProofValidation().Configure<IOptions<ResourceApiOptions>>((dpop, api) =>
{
    dpop.RequireNonce = false;
    dpop.ProofLifetime = api.Value.DpopProofLifetime;
    dpop.ReplayCacheSize = api.Value.DpopReplayCacheSize;
    dpop.Algorithms = AccessTokenEvents.ProofAlgorithms;
});

builder.Services.AddSingleton<AccessTokenEvents>();
builder.Services.AddAuthentication(JwtBearerDefaults.AuthenticationScheme).AddJwtBearer();
builder.Services.AddOptions<JwtBearerOptions>(JwtBearerDefaults.AuthenticationScheme)
    .Configure<IOptions<ResourceApiOptions>, TimeProvider>((jwt, api, clock) => AccessTokenEvents.Configure(jwt, api.Value, clock));
builder.Services.AddAuthorization();

var app = builder.Build();
app.UseAuthentication();
app.UseAuthorization();

app.MapGet("/health", () => Results.Ok(new { status = "ok" }));

// Who is calling: the user, the client app, the linked device, and how the token was presented.
app.MapGet("/me", (ClaimsPrincipal user) => Results.Ok(new
{
    sub = user.FindFirstValue("sub"),
    client_id = user.FindFirstValue("client_id"),
    scope = user.FindFirstValue("scope"),
    device_id = user.FindFirstValue("device_id"),
    token_type = user.Identity!.AuthenticationType,
})).RequireScope("api");

app.Run();
