using AuthServer.Hosting;

namespace AuthServer.Protocol;

public static class ProtocolEndpoints
{
    /// <summary>Maps the OAuth endpoints, one file each.</summary>
    public static IEndpointRouteBuilder MapProtocolEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapGet(Discovery.OAuthPath, Discovery.Handle);
        app.MapGet(Discovery.OpenIdPath, Discovery.Handle);
        app.MapGet(Jwks.Path, Jwks.Handle);
        app.MapPost(DeviceAuthorizationEndpoint.Path, DeviceAuthorizationEndpoint.HandleAsync);
        app.MapPost(TokenEndpoint.Path, TokenEndpoint.HandleAsync);
        app.MapMethods(UserinfoEndpoint.Path, ["GET", "POST"], UserinfoEndpoint.HandleAsync);
        app.MapGet(QrCodeEndpoint.Path, QrCodeEndpoint.HandleAsync).RequireRateLimiting(UserCodeRateLimit.Policy);

        // A wrong method still gets an OAuth error body rather than an empty 405.
        foreach (var path in new[] { DeviceAuthorizationEndpoint.Path, TokenEndpoint.Path })
        {
            app.MapMethods(path, ["GET", "PUT", "DELETE", "PATCH"], (HttpContext context) =>
            {
                context.Response.Headers.Allow = "POST";
                return new OAuthError("invalid_request", "Use POST.", StatusCodes.Status405MethodNotAllowed);
            });
        }
        return app;
    }
}
