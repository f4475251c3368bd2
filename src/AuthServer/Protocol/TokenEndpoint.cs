using AuthServer.Clients;
using AuthServer.Tokens;

namespace AuthServer.Protocol;

/// <summary><c>POST /connect/token</c> (RFC 6749 §3.2): authenticates the client, then hands over to the grant.</summary>
public static class TokenEndpoint
{
    public const string Path = "/connect/token";

    public static async Task<IResult> HandleAsync(HttpContext context, ClientAuthenticator authenticator)
    {
        var (request, client, error) = await authenticator.ReadAndAuthenticateAsync(context);
        if (error is not null) return error;

        var grantType = request!["grant_type"];
        if (string.IsNullOrEmpty(grantType))
            return OAuthError.InvalidRequest("grant_type is required.");
        if (!GrantTypes.Implemented.Contains(grantType))
            return OAuthError.UnsupportedGrantType($"The grant type '{grantType}' is not supported.");
        if (!client!.GrantTypes.Contains(grantType))
            return OAuthError.UnauthorizedClient($"This client may not use the grant type '{grantType}'.");

        // RFC 9449 §5: a DPoP proof binds what is issued to the client's key. No proof header costs nothing here,
        // which keeps the pending poll of an unbound screen cheap.
        var (dpop, dpopError) = await CheckDpopAsync(context, client);
        if (dpopError is not null) return dpopError;

        var services = context.RequestServices;
        return grantType switch
        {
            GrantTypes.DeviceCode => await services.GetRequiredService<DeviceCodeGrant>().HandleAsync(context, request, client, dpop),
            GrantTypes.RefreshToken => await services.GetRequiredService<RefreshTokenGrant>().HandleAsync(context, request, client, dpop),
            GrantTypes.AuthorizationCode => await services.GetRequiredService<AuthorizationCodeGrant>().HandleAsync(context, request, client, dpop),
            _ => OAuthError.UnsupportedGrantType($"The grant type '{grantType}' is not supported."),
        };
    }

    /// <summary>The request's DPoP proof, if any, checked; a client that requires DPoP must send one.</summary>
    public static async Task<(DpopProof? Proof, OAuthError? Error)> CheckDpopAsync(HttpContext context, Data.Entities.Client client)
    {
        var validator = context.RequestServices.GetRequiredService<DpopProofValidator>();
        var result = await validator.ValidateAsync(context.Request);
        if (result.NonceMissing)
            return (null, OAuthError.UseDpopNonce(result.Error!, validator.CurrentNonce()));
        if (result.Error is not null)
            return (null, OAuthError.InvalidDpopProof(result.Error));
        if (result.Proof is null && client.RequireDpop)
            return (null, OAuthError.InvalidDpopProof("This client must send a DPoP proof (RFC 9449)."));
        if (result.Proof is not null)
            context.Response.Headers[DpopProofValidator.NonceHeader] = validator.CurrentNonce();
        return (result.Proof, null);
    }
}
