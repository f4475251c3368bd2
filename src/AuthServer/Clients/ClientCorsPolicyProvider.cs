using Microsoft.AspNetCore.Cors.Infrastructure;

namespace AuthServer.Clients;

/// <summary>
/// CORS for browser apps: an origin is allowed when a registered client lists it in <c>AllowedCorsOrigins</c>. Only the
/// endpoints a browser app calls directly opt in (discovery, JWKS, device, token, userinfo); pages never do.
/// </summary>
public sealed class ClientCorsPolicyProvider(ClientStore clients) : ICorsPolicyProvider
{
    public const string Policy = "registered-client-origins";

    public Task<CorsPolicy?> GetPolicyAsync(HttpContext context, string? policyName)
    {
        var origin = context.Request.Headers.Origin.ToString();
        if (policyName != Policy || origin.Length == 0 || !clients.IsAllowedOrigin(origin))
            return Task.FromResult<CorsPolicy?>(null);

        var policy = new CorsPolicyBuilder()
            .WithOrigins(origin)
            .WithMethods("GET", "POST")
            .AllowAnyHeader()
            // A browser app must read the challenge and the DPoP nonce it is asked to use (RFC 9449 §8).
            .WithExposedHeaders("WWW-Authenticate", "DPoP-Nonce")
            .Build();
        return Task.FromResult<CorsPolicy?>(policy);
    }
}
