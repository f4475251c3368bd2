// A third-party web app that lets its users sign in with AuthServer, and so by scanning a QR code with their phone:
// ASP.NET Core's stock cookie and OpenID Connect handlers, the authorization code flow with PKCE, and nothing that
// knows which server is on the other side. AuthServer's sign-in page offers the QR code itself.
using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Authentication.OpenIdConnect;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;
using ScanSignInWeb;

var builder = WebApplication.CreateBuilder(args);

builder.Services.AddOptions<SignInSettings>().BindConfiguration(SignInSettings.Section)
    .ValidateDataAnnotations()
    .Validate(s => s.RequireHttpsMetadata ? s.Authority.StartsWith("https://", StringComparison.OrdinalIgnoreCase) : true,
        "OpenIdConnect:Authority must be https unless RequireHttpsMetadata is false (local development only).")
    .ValidateOnStart();

builder.Services.AddAuthentication(options =>
    {
        options.DefaultScheme = CookieAuthenticationDefaults.AuthenticationScheme;
        options.DefaultChallengeScheme = OpenIdConnectDefaults.AuthenticationScheme;
    })
    .AddCookie(options => options.Cookie.Name = "scan-sign-in-web")
    .AddOpenIdConnect();

// The handler's options come from the settings above, validated at start-up.
builder.Services.AddOptions<OpenIdConnectOptions>(OpenIdConnectDefaults.AuthenticationScheme)
    .Configure<IOptions<SignInSettings>>((oidc, settings) =>
    {
        var s = settings.Value;
        oidc.Authority = s.Authority;
        oidc.ClientId = s.ClientId;
        oidc.ClientSecret = s.ClientSecret;
        oidc.RequireHttpsMetadata = s.RequireHttpsMetadata;
        // The authorization code flow (OpenID Connect Core §3.1) with PKCE S256 (RFC 7636), the code returned in the
        // query string: the handler's default form_post is a response mode the server may not offer.
        oidc.ResponseType = OpenIdConnectResponseType.Code;
        oidc.ResponseMode = OpenIdConnectResponseMode.Query;
        oidc.UsePkce = true;
        oidc.Scope.Clear();
        foreach (var scope in s.Scopes) oidc.Scope.Add(scope);
        oidc.GetClaimsFromUserInfoEndpoint = true;
        // The ID token is kept for RP-initiated logout (id_token_hint).
        oidc.SaveTokens = true;
        // Claims keep their OpenID Connect names (sub, name, email) rather than the WS-* URIs.
        oidc.MapInboundClaims = false;
        oidc.TokenValidationParameters.NameClaimType = "name";
        oidc.SignedOutRedirectUri = "/";
    });

builder.Services.AddAntiforgery();

var app = builder.Build();

app.UseAuthentication();

app.MapGet("/", (HttpContext context, IAntiforgery antiforgery) =>
{
    var user = context.User;
    var tokens = user.Identity?.IsAuthenticated == true ? antiforgery.GetAndStoreTokens(context) : null;
    var body = user.Identity?.IsAuthenticated == true
        ? $"""
          <h1>Example Shop</h1>
          <p data-testid="greeting">Hello, {Html(user.Identity.Name ?? user.FindFirstValue("sub"))}</p>
          <p data-testid="email">{Html(user.FindFirstValue("email"))}</p>
          <form method="post" action="/signout">
            <input type="hidden" name="{tokens!.FormFieldName}" value="{Html(tokens.RequestToken)}" />
            <button type="submit" data-testid="sign-out">Sign out</button>
          </form>
          """
        : """
          <h1>Example Shop</h1>
          <p data-testid="greeting">You are not signed in.</p>
          <p><a href="/signin" data-testid="sign-in">Sign in</a></p>
          """;
    return Results.Content($"<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Example Shop</title></head><body>{body}</body></html>", "text/html; charset=utf-8");
});

// The sign-in button: the OpenID Connect handler sends the browser to the authorization endpoint.
app.MapGet("/signin", () => Results.Challenge(new AuthenticationProperties { RedirectUri = "/" }));

// Signs out here, then at the authorization server (RP-initiated logout), which sends the browser back.
app.MapPost("/signout", async (HttpContext context, IAntiforgery antiforgery) =>
    await antiforgery.IsRequestValidAsync(context)
        ? Results.SignOut(new AuthenticationProperties { RedirectUri = "/" },
            [CookieAuthenticationDefaults.AuthenticationScheme, OpenIdConnectDefaults.AuthenticationScheme])
        : Results.BadRequest());

app.Run();

static string Html(string? text) => HtmlEncoder.Default.Encode(text ?? "");
