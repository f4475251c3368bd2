using AuthServer.Clients;
using AuthServer.Tokens;

namespace AuthServer.Protocol;

/// <summary>DPoP (RFC 9449) at our own client-facing endpoint, the push stream, with the token endpoint's errors.</summary>
public static class DpopCheck
{
    public static readonly OAuthError WrongKey = OAuthError.InvalidDpopProof(Handlers.TokenHandlers.WrongKey);

    /// <summary>The request's DPoP proof, if any, checked; a client that requires DPoP must send one.</summary>
    public static async Task<(DpopProof? Proof, OAuthError? Error)> CheckAsync(HttpContext context, Client client)
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
