using AuthServer.Clients;

namespace AuthServer.Protocol;

public static class ProtocolEndpoints
{
    /// <summary>Maps the OAuth endpoints, one file each.</summary>
    public static IEndpointRouteBuilder MapProtocolEndpoints(this IEndpointRouteBuilder app)
    {
        // What a browser app calls directly is open to the origins its client registered.
        var browserCallable = app.MapGroup("").RequireCors(ClientCorsPolicyProvider.Policy);
        browserCallable.MapGet(Discovery.OAuthPath, Discovery.Handle);
        browserCallable.MapGet(Discovery.OpenIdPath, Discovery.Handle);
        browserCallable.MapGet(Jwks.Path, Jwks.Handle);
        browserCallable.MapPost(DeviceAuthorizationEndpoint.Path, DeviceAuthorizationEndpoint.HandleAsync);
        browserCallable.MapPost(DeviceEventsEndpoint.Path, DeviceEventsEndpoint.HandleAsync);
        browserCallable.MapPost(TokenEndpoint.Path, TokenEndpoint.HandleAsync);
        browserCallable.MapMethods(UserinfoEndpoint.Path, ["GET", "POST"], UserinfoEndpoint.HandleAsync);
        browserCallable.MapPost(RevocationEndpoint.Path, RevocationEndpoint.HandleAsync);

        app.MapPost(IntrospectionEndpoint.Path, IntrospectionEndpoint.HandleAsync);

        app.MapMethods(AuthorizeEndpoint.Path, ["GET", "POST"], AuthorizeEndpoint.HandleAsync);
        app.MapGet(QrCodeEndpoint.Path, QrCodeEndpoint.Handle);

        // A wrong method still gets an OAuth error body rather than an empty 405.
        foreach (var path in new[] { DeviceAuthorizationEndpoint.Path, TokenEndpoint.Path, RevocationEndpoint.Path, IntrospectionEndpoint.Path })
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
