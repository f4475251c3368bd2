using AuthServer.Clients;

namespace AuthServer.Protocol;

/// <summary>DPoP (RFC 9449) at our own client-facing endpoint, the push stream, with the token endpoint's errors.</summary>
public static class DpopCheck
{
    public static readonly OAuthError WrongKey = OAuthError.InvalidDpopProof(Handlers.TokenHandlers.WrongKey);

    /// <summary>The request's DPoP proof, if any, checked by the same rule as at the token endpoint.</summary>
    public static async Task<(string? Jkt, OAuthError? Error)> CheckAsync(HttpContext context, Client client, DpopProofValidator validator)
    {
        var outcome = await Handlers.DpopHandlers.CheckAsync(context.Request, client, validator);
        return outcome.Error is null ? (outcome.Jkt, null) : (null, new OAuthError(outcome.Error, outcome.Description ?? "The DPoP proof is not valid."));
    }
}
