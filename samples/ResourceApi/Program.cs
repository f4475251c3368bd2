// A resource API that accepts AuthServer's access tokens: JWTs (RFC 9068) verified with the keys published at the
// authority's jwks_uri, as Bearer tokens or, when DPoP-bound, with a DPoP proof (RFC 9449).
using System.Security.Claims;
using Microsoft.Extensions.DependencyInjection.Extensions;
using ResourceApi;

var builder = WebApplication.CreateBuilder(args);

builder.Services.AddOptions<ResourceApiOptions>()
    .Bind(builder.Configuration)
    .ValidateDataAnnotations()
    .Validate(o => Uri.TryCreate(o.Authority, UriKind.Absolute, out var uri) && uri.Query.Length == 0 && uri.Fragment.Length == 0
                   && (uri.Scheme == Uri.UriSchemeHttps || (uri.Scheme == Uri.UriSchemeHttp && !o.RequireHttpsMetadata)),
        "Authority must be the authorization server's issuer URL: absolute, https (unless RequireHttpsMetadata is false), without query or fragment.")
    .ValidateOnStart();

builder.Services.TryAddSingleton(TimeProvider.System);
// Metadata and keys are fetched with this named client; tests replace its handler to reach an in-memory server.
builder.Services.AddHttpClient(AuthorityKeys.HttpClientName, http => http.Timeout = TimeSpan.FromSeconds(10));
builder.Services.AddSingleton<AuthorityKeys>();
builder.Services.AddSingleton<AccessTokenValidator>();
builder.Services.AddSingleton<DpopReplayCache>();
builder.Services.AddSingleton<DpopProofValidator>();

builder.Services.AddAuthentication(AccessTokenAuthenticationHandler.SchemeName)
    .AddScheme<Microsoft.AspNetCore.Authentication.AuthenticationSchemeOptions, AccessTokenAuthenticationHandler>(AccessTokenAuthenticationHandler.SchemeName, null);
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
