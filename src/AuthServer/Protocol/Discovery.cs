using AuthServer.Clients;
using AuthServer.Hosting;
using AuthServer.Tokens;
using Microsoft.Extensions.Options;

namespace AuthServer.Protocol;

/// <summary>
/// Authorization server metadata (RFC 8414 §2), served at <c>/.well-known/oauth-authorization-server</c> and, with the
/// OpenID Connect Discovery members, at <c>/.well-known/openid-configuration</c>. It advertises what exists, and
/// nothing that does not.
/// </summary>
public static class Discovery
{
    public const string OAuthPath = "/.well-known/oauth-authorization-server";
    public const string OpenIdPath = "/.well-known/openid-configuration";

    public static IResult Handle(HttpContext context, IssuerResolver issuers, ScopeCatalog scopes, IOptions<TokenOptions> tokens, DpopProofValidator dpop)
    {
        var issuer = issuers.Resolve(context.Request);
        context.Response.Headers.CacheControl = "public, max-age=300";
        return TypedResults.Json(new Dictionary<string, object>
        {
            ["issuer"] = issuer,
            ["authorization_endpoint"] = issuer + AuthorizeEndpoint.Path,
            ["token_endpoint"] = issuer + TokenEndpoint.Path,
            ["device_authorization_endpoint"] = issuer + DeviceAuthorizationEndpoint.Path,
            // Our extension: the push stream of a login request's status changes.
            ["device_authorization_events_endpoint"] = issuer + DeviceEventsEndpoint.Path,
            ["jwks_uri"] = issuer + Jwks.Path,
            ["userinfo_endpoint"] = issuer + UserinfoEndpoint.Path,
            ["grant_types_supported"] = GrantTypes.Implemented,
            ["end_session_endpoint"] = issuer + EndSessionRequest.Path,
            ["revocation_endpoint"] = issuer + RevocationEndpoint.Path,
            ["revocation_endpoint_auth_methods_supported"] = ClientAuthenticator.SupportedMethods,
            ["introspection_endpoint"] = issuer + IntrospectionEndpoint.Path,
            ["introspection_endpoint_auth_methods_supported"] = new[] { "client_secret_basic", "client_secret_post" },
            // The code flow only, with PKCE S256 (RFC 9700 §2.1.1, §2.1.2).
            ["response_types_supported"] = new[] { "code" },
            ["response_modes_supported"] = new[] { "query" },
            ["code_challenge_methods_supported"] = new[] { "S256" },
            ["authorization_response_iss_parameter_supported"] = true,
            ["request_parameter_supported"] = false,
            ["request_uri_parameter_supported"] = false,
            ["claims_parameter_supported"] = false,
            ["token_endpoint_auth_methods_supported"] = ClientAuthenticator.SupportedMethods,
            ["dpop_signing_alg_values_supported"] = dpop.AcceptedAlgorithms,
            ["scopes_supported"] = scopes.Names.ToArray(),
            // OpenID Connect Discovery 1.0 §3, for the ID tokens the token endpoint returns with the openid scope.
            ["subject_types_supported"] = new[] { "public" },
            // The default first (RS256 unless configured otherwise); a client may be registered for the other one.
            ["id_token_signing_alg_values_supported"] = SigningKeyStore.Algorithms.OrderBy(a => a != tokens.Value.IdentityTokenAlgorithm).ToArray(),
            ["claims_supported"] = new[] { "sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "name", "preferred_username", "email", "email_verified", TokenIssuer.DeviceIdClaim },
        });
    }
}
