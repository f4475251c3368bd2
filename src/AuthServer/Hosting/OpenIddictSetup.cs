using AuthServer.Clients;
using AuthServer.Data;
using AuthServer.Data.Entities;
using AuthServer.Endpoints;
using AuthServer.Handlers;
using AuthServer.Tokens;
using Microsoft.Extensions.Options;
using OpenIddict.Server;
using OpenIddict.Validation;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace AuthServer.Hosting;

/// <summary>
/// The protocol on one page. OpenIddict answers and validates every OAuth 2.0 / OpenID Connect endpoint; what it has
/// no notion of (the scan state, slow_down, DPoP, number matching, keys from our database, per-client settings) is ours,
/// added as the event handlers listed below, each ordered next to the built-in handler it must precede or follow.
/// </summary>
public static class OpenIddictSetup
{
    public const string AuthorizePath = "/connect/authorize";
    public const string DevicePath = "/connect/device";
    public const string TokenPath = "/connect/token";
    public const string RevocationPath = "/connect/revoke";
    public const string IntrospectionPath = "/connect/introspect";
    public const string UserinfoPath = "/connect/userinfo";
    public const string EndSessionPath = "/connect/endsession";
    public const string VerificationPath = "/device";
    public const string OAuthMetadataPath = "/.well-known/oauth-authorization-server";
    public const string OpenIdMetadataPath = "/.well-known/openid-configuration";
    public const string JwksPath = "/.well-known/jwks";

    /// <summary>
    /// The paths that answer applications in English by design: the protocol endpoints (except RP-initiated logout,
    /// a page the user's browser is sent to), the metadata and the health checks.
    /// </summary>
    public static bool IsProtocolPath(PathString path) =>
        path.StartsWithSegments("/.well-known") || path.StartsWithSegments("/health")
        || (path.StartsWithSegments("/connect") && !path.StartsWithSegments(EndSessionPath));

    /// <summary>The code's lifetime: long enough for a redirect, short enough that a leaked code is stale (RFC 6749 §4.1.2).</summary>
    public static readonly TimeSpan AuthorizationCodeLifetime = TimeSpan.FromSeconds(60);

    public static void AddProtocol(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        var tokens = builder.Configuration.GetSection(TokenOptions.Section).Get<TokenOptions>() ?? new TokenOptions();
        var scopes = new ScopeCatalog(builder.Configuration);
        var issuer = builder.Configuration.GetSection(AuthServerOptions.Section).Get<AuthServerOptions>()?.Issuer;

        // The authorizations and accounts a request has read with its tokens, shared by its stores and endpoints (Data/Stores).
        services.AddScoped<Data.Stores.ReadAuthorizations>();
        services.AddScoped<Data.Stores.ReadAccounts>();
        services.AddOpenIddict()
            .AddCore(core =>
            {
                core.UseEntityFrameworkCore().UseDbContext<AuthServerDbContext>()
                    .ReplaceDefaultEntities<Application, Authorization, Scope, Token, string>();
                // Our secret hashing (several valid secrets during a rotation) and RFC 8252 loopback redirects.
                core.ReplaceApplicationManager<Application, ClientManager>();
                // Single-statement writes, compiled reads and clients from memory (Data/Stores, docs/benchmarks.md).
                core.ReplaceTokenManager<Token, Data.Stores.TokenManager>()
                    .ReplaceTokenStore<Token, Data.Stores.TokenStore>()
                    .ReplaceAuthorizationStore<Authorization, Data.Stores.AuthorizationStore>()
                    .ReplaceApplicationStore<Application, Data.Stores.ApplicationStore>();
            })
            .AddServer(server =>
            {
                server.SetAuthorizationEndpointUris(AuthorizePath)
                    .SetDeviceAuthorizationEndpointUris(DevicePath)
                    .SetTokenEndpointUris(TokenPath)
                    .SetRevocationEndpointUris(RevocationPath)
                    .SetIntrospectionEndpointUris(IntrospectionPath)
                    .SetUserInfoEndpointUris(UserinfoPath)
                    .SetEndSessionEndpointUris(EndSessionPath)
                    // The browser page; the phone API's approve and deny are mapped onto it by PhoneVerification.
                    .SetEndUserVerificationEndpointUris(VerificationPath)
                    // RFC 8414 and OIDC Discovery publish the same document.
                    .SetConfigurationEndpointUris(OpenIdMetadataPath, OAuthMetadataPath)
                    .SetJsonWebKeySetEndpointUris(JwksPath);

                // Unset (Development only, see AuthServerOptions), each request's own origin is the issuer.
                if (issuer is not null) server.SetIssuer(issuer);

                server.AllowAuthorizationCodeFlow()
                    .AllowDeviceAuthorizationFlow()
                    .AllowRefreshTokenFlow()
                    .AllowClientCredentialsFlow()
                    // RFC 9700 §2.1.1: PKCE for every code, S256 only (the plain method is removed below).
                    .RequireProofKeyForCodeExchange();

                server.RegisterScopes([.. scopes.Names]);
                server.RegisterClaims(Claims.Subject, Claims.Name, Claims.PreferredUsername, Claims.Email, Claims.EmailVerified,
                    Claims.AuthenticationTime, TokenClaims.DeviceId);

                // RFC 8628 §6.1: 8 characters of a 20-letter alphabet without vowels (≈ 34.5 bits), shown as XXXX-XXXX.
                server.SetUserCodeCharset([.. DeviceFlow.UserCode.Alphabet.Select(c => c.ToString())])
                    .SetUserCodeLength(DeviceFlow.UserCode.Length)
                    .SetUserCodeDisplayFormat("{0}{1}{2}{3}-{4}{5}{6}{7}");

                // Global lifetimes; each client's own (ClientSettings) take precedence.
                server.SetAccessTokenLifetime(tokens.AccessTokenLifetime)
                    .SetIdentityTokenLifetime(tokens.IdentityTokenLifetime)
                    .SetAuthorizationCodeLifetime(AuthorizationCodeLifetime)
                    .SetDeviceCodeLifetime(ClientSettings.DefaultDeviceCodeLifetime)
                    .SetUserCodeLifetime(ClientSettings.DefaultDeviceCodeLifetime)
                    .SetRefreshTokenLifetime(ClientSettings.DefaultRefreshTokenIdleLifetime)
                    // RFC 9700 §4.14.2: a rotated refresh token may be retried within the leeway (a lost response);
                    // later reuse revokes the authorization. RefreshReuse caps the retries at one.
                    .SetRefreshTokenReuseLeeway(tokens.RefreshTokenReuseLeeway);

                // Access tokens are signed JWTs (RFC 9068, typ at+jwt), not encrypted: third-party APIs validate them
                // offline against the JWKS. Every other token is opaque to clients, in ASP.NET Core Data Protection's
                // format, whose key ring is in our database and shared by every node.
                server.DisableAccessTokenEncryption();
                server.UseDataProtection().PreferDefaultAccessTokenFormat();
                // OpenIddict insists on an encryption key, but with the formats above it never encrypts with it: a
                // key that lives in memory only is the honest choice.
                server.AddEphemeralEncryptionKey();

                server.Configure(options =>
                {
                    options.CodeChallengeMethods.Remove(CodeChallengeMethods.Plain);
                    // The code comes back in the query only (RFC 9700 §4.3.1: nothing in fragments or auto-posted forms).
                    options.ResponseModes.Remove(ResponseModes.Fragment);
                    options.ResponseModes.Remove(ResponseModes.FormPost);
                });

                server.UseAspNetCore()
                    .EnableAuthorizationEndpointPassthrough()
                    .EnableTokenEndpointPassthrough()
                    .EnableEndUserVerificationEndpointPassthrough()
                    .EnableUserInfoEndpointPassthrough()
                    .EnableEndSessionEndpointPassthrough()
                    // TLS is the reverse proxy's job in production; Development runs on plain http.
                    .DisableTransportSecurityRequirement()
                    // Compact JSON: every poll's answer is smaller, and line-oriented tools (the README's curl) read it.
                    .SuppressJsonResponseIndentation();

                Handlers.ServerHandlers.Register(server);
            })
            .AddValidation(validation =>
            {
                // Our own protected endpoints (the phone API, userinfo, linked devices) validate our access tokens
                // with the server's own keys and configuration.
                validation.UseLocalServer();
                validation.UseAspNetCore();
                // GHSA-cxgj-hwwh-855g: in 7.8.0, authorization entry validation is silently skipped unless token entry
                // validation is on too. Both are on, so a logged-out device's access tokens stop working at once.
                validation.EnableTokenEntryValidation();
                validation.EnableAuthorizationEntryValidation();
                Handlers.ValidationHandlers.Register(validation);
            });

        // One clock for OpenIddict and for us.
        services.AddSingleton<IConfigureOptions<OpenIddictServerOptions>, UseServerClock>();
        services.AddSingleton<IConfigureOptions<OpenIddictValidationOptions>, UseValidationClock>();
        // Signing keys come from our database and rotate without a restart (SigningKeyStore).
        services.AddSingleton<IConfigureOptions<OpenIddictServerOptions>, SigningKeyStore.ServerKeys>();
        services.AddSingleton<IOptionsChangeTokenSource<OpenIddictServerOptions>, SigningKeyStore.ServerKeysChanged>();
        services.AddSingleton<IOptionsChangeTokenSource<OpenIddictValidationOptions>, SigningKeyStore.ValidationKeysChanged>();
    }

    private sealed class UseServerClock(TimeProvider clock) : IConfigureOptions<OpenIddictServerOptions>
    {
        public void Configure(OpenIddictServerOptions options) => options.TimeProvider = clock;
    }

    private sealed class UseValidationClock(TimeProvider clock) : IConfigureOptions<OpenIddictValidationOptions>
    {
        public void Configure(OpenIddictValidationOptions options) => options.TimeProvider = clock;
    }
}
