using AuthServer.Clients;
using AuthServer.Endpoints;
using AuthServer.Hosting;

namespace AuthServer.Protocol;

public static class ProtocolEndpoints
{
    /// <summary>
    /// Maps the passthrough endpoints, where OpenIddict hands a validated request to us, and our own: the push stream
    /// and the QR image. Discovery, the JWKS, device authorization, revocation and introspection are answered by
    /// OpenIddict alone; the end-session passthrough is a page (<c>Pages/Logout</c>).
    /// </summary>
    public static IEndpointRouteBuilder MapProtocolEndpoints(this IEndpointRouteBuilder app)
    {
        // What a browser app calls directly is open to the origins its client registered.
        var browserCallable = app.MapGroup("").RequireCors(ClientCorsPolicyProvider.Policy);
        browserCallable.MapPost(OpenIddictSetup.TokenPath, TokenEndpoint.HandleAsync);
        browserCallable.MapMethods(OpenIddictSetup.UserinfoPath, ["GET", "POST"], UserinfoEndpoint.HandleAsync);
        browserCallable.MapPost(DeviceEventsEndpoint.Path, DeviceEventsEndpoint.HandleAsync);

        app.MapMethods(OpenIddictSetup.AuthorizePath, ["GET", "POST"], AuthorizeEndpoint.HandleAsync);
        app.MapGet(QrCodeEndpoint.Path, QrCodeEndpoint.Handle);
        return app;
    }
}
