using Microsoft.AspNetCore;
using AuthServer.Clients;
using AuthServer.Tokens;
using OpenIddict.Server;
using OpenIddict.Server.AspNetCore;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace AuthServer.Handlers;

/// <summary>
/// DPoP (RFC 9449) at the device authorization and token endpoints, which OpenIddict 7.8.0 knows nothing of. The proof
/// is checked before OpenIddict reads a token or the database; its key's thumbprint then travels in the transaction to
/// the handlers that bind what is issued (<c>cnf.jkt</c>, §6.1) and answer <c>token_type</c> DPoP (§5).
/// </summary>
public static class DpopHandlers
{
    private const string JktProperty = "authserver:dpop_jkt";

    /// <summary>The thumbprint of the key of this request's valid proof, or null when none was sent.</summary>
    public static string? ProofJkt(OpenIddictServerTransaction transaction) =>
        transaction.Properties.TryGetValue(JktProperty, out var value) ? value as string : null;

    /// <summary>What a request's DPoP proof comes to: its key's thumbprint (null without a proof), or the error to answer.</summary>
    public sealed record Outcome(string? Jkt, string? Error = null, string? Description = null);

    /// <summary>
    /// Checks the request's proof, if any; a client that requires DPoP must send one. Refusals are
    /// <c>use_dpop_nonce</c> (§8, with the nonce in the header) or <c>invalid_dpop_proof</c> (§5). The one rule for
    /// every endpoint that takes proofs: OpenIddict's (through <see cref="CheckProofAsync"/>) and the push stream.
    /// </summary>
    public static async Task<Outcome> CheckAsync(HttpRequest http, Client? client, DpopProofValidator validator)
    {
        // No proof header costs nothing here, which keeps the pending poll of an unbound screen cheap.
        if (!http.Headers.ContainsKey(DpopProofValidator.Header))
            return client?.RequireDpop == true
                ? new Outcome(null, Errors.InvalidDpopProof, "This client must send a DPoP proof (RFC 9449).")
                : new Outcome(null);

        var result = await validator.ValidateAsync(http);
        if (result.NonceMissing || result.Proof is not null)
            http.HttpContext.Response.Headers[DpopProofValidator.NonceHeader] = validator.CurrentNonce();
        if (result.NonceMissing) return new Outcome(null, Errors.UseDpopNonce, result.Error);
        return result.Proof is null ? new Outcome(null, Errors.InvalidDpopProof, result.Error) : new Outcome(result.Proof.Jkt);
    }

    /// <summary><see cref="CheckAsync"/> in an OpenIddict request: false when it was rejected; the thumbprint goes in the transaction.</summary>
    public static async ValueTask<bool> CheckProofAsync(BaseValidatingContext context, Client? client, DpopProofValidator validator)
    {
        var outcome = await CheckAsync(context.Transaction.GetHttpRequest()!, client, validator);
        if (outcome.Error is not null)
        {
            context.Reject(outcome.Error, outcome.Description);
            return false;
        }
        if (outcome.Jkt is not null) context.Transaction.Properties[JktProperty] = outcome.Jkt;
        return true;
    }

    public static class Errors
    {
        public const string InvalidDpopProof = "invalid_dpop_proof";
        public const string UseDpopNonce = "use_dpop_nonce";
    }

    /// <summary>Checks the proof of a token request before OpenIddict authenticates the client or reads the grant.</summary>
    public sealed class ValidateTokenRequestProof(DpopProofValidator validator, ClientStore clients) : IOpenIddictServerHandler<ValidateTokenRequestContext>
    {
        public static OpenIddictServerHandlerDescriptor Descriptor { get; } = OpenIddictServerHandlerDescriptor.CreateBuilder<ValidateTokenRequestContext>()
            .UseSingletonHandler<ValidateTokenRequestProof>()
            .SetOrder(OpenIddictServerHandlers.Exchange.ValidateGrantType.Descriptor.Order + 500)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build();

        public async ValueTask HandleAsync(ValidateTokenRequestContext context) =>
            await CheckProofAsync(context, clients.Find(context.ClientId), validator);
    }

    /// <summary>
    /// A DPoP-bound access token is answered with <c>token_type</c> DPoP (RFC 9449 §5); the proof's key is the one
    /// it is bound to.
    /// </summary>
    public sealed class AttachDpopTokenType : IOpenIddictServerHandler<ApplyTokenResponseContext>
    {
        public static OpenIddictServerHandlerDescriptor Descriptor { get; } = OpenIddictServerHandlerDescriptor.CreateBuilder<ApplyTokenResponseContext>()
            .UseSingletonHandler<AttachDpopTokenType>()
            .SetOrder(int.MinValue + 100_000)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build();

        public ValueTask HandleAsync(ApplyTokenResponseContext context)
        {
            if (context.Response.AccessToken is not null && ProofJkt(context.Transaction) is not null)
                context.Response.TokenType = "DPoP";
            return ValueTask.CompletedTask;
        }
    }
}
