using AuthServer.Clients;

namespace AuthServer.Protocol;

/// <summary><c>POST /connect/token</c> (RFC 6749 §3.2): authenticates the client, then hands over to the grant.</summary>
public static class TokenEndpoint
{
    public const string Path = "/connect/token";

    public static async Task<IResult> HandleAsync(HttpContext context, ClientAuthenticator authenticator)
    {
        var (request, error) = await ProtocolRequest.ReadAsync(context);
        if (error is not null) return error;

        var (client, clientError) = authenticator.Authenticate(context, request!);
        if (clientError is not null) return clientError;

        var grantType = request!["grant_type"];
        if (string.IsNullOrEmpty(grantType))
            return OAuthError.InvalidRequest("grant_type is required.");
        if (!GrantTypes.Implemented.Contains(grantType))
            return OAuthError.UnsupportedGrantType($"The grant type '{grantType}' is not supported.");
        if (!client!.GrantTypes.Contains(grantType))
            return OAuthError.UnauthorizedClient($"This client may not use the grant type '{grantType}'.");

        var services = context.RequestServices;
        return grantType switch
        {
            GrantTypes.DeviceCode => await services.GetRequiredService<DeviceCodeGrant>().HandleAsync(context, request, client),
            GrantTypes.RefreshToken => await services.GetRequiredService<RefreshTokenGrant>().HandleAsync(context, request, client),
            GrantTypes.AuthorizationCode => await services.GetRequiredService<AuthorizationCodeGrant>().HandleAsync(context, request, client),
            _ => OAuthError.UnsupportedGrantType($"The grant type '{grantType}' is not supported."),
        };
    }
}
