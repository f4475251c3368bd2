using Microsoft.AspNetCore.Authentication;
using System.Security.Claims;
using System.Text.Json;
using OpenIddict.Abstractions;
using OpenIddict.Validation.AspNetCore;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace AuthServer.Tokens;

/// <summary>An access token OpenIddict validated, with what our endpoints need from it.</summary>
public sealed record ValidatedAccessToken(string Subject, string ClientId, string DeviceId, IReadOnlyList<string> Scopes, string? Jkt);

/// <summary>Why a request to a protected endpoint was refused, and the challenge to send (RFC 6750 §3, RFC 9449 §7.1).</summary>
public sealed record TokenRefusal(string? Error, string? Description, string Scheme, string? DpopNonce = null);

/// <summary>
/// Authenticates a request to one of our protected endpoints (the phone API, userinfo): OpenIddict's validation stack
/// checks the token (signature, lifetime, and that the token and its linked device are still valid in the database),
/// and this class adds the DPoP rules OpenIddict does not know: <c>Authorization: DPoP</c> with a proof bound to the
/// token (RFC 9449 §7). A DPoP-bound token presented as a plain Bearer token is refused: without the proof it is just
/// a stolen string.
/// </summary>
public sealed class AccessTokenAuthentication(DpopProofValidator dpop)
{
    public async Task<(ValidatedAccessToken? Token, TokenRefusal? Refusal)> AuthenticateAsync(HttpContext context)
    {
        var scheme = SchemeOf(context.Request);
        if (scheme is null) return (null, new TokenRefusal(null, null, "Bearer"));
        var result = await context.AuthenticateAsync(OpenIddictValidationAspNetCoreDefaults.AuthenticationScheme);
        return result.Principal is { } principal
            ? await CheckBindingAsync(context.Request, principal, scheme)
            : (null, Invalid(scheme));
    }

    /// <summary>The scheme the token came with: Bearer (RFC 6750 §2.1) or DPoP (RFC 9449 §7.1); null without a token.</summary>
    public static string? SchemeOf(HttpRequest request)
    {
        var header = request.Headers.Authorization.ToString();
        if (header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) && header.Length > 7) return "Bearer";
        if (header.StartsWith("DPoP ", StringComparison.OrdinalIgnoreCase) && header.Length > 5) return "DPoP";
        return null;
    }

    public static TokenRefusal Invalid(string scheme) =>
        new("invalid_token", "The access token is not valid, has expired, or its device was logged out.", scheme);

    /// <summary>The DPoP rules for a token OpenIddict has validated (here or at its userinfo endpoint).</summary>
    public async Task<(ValidatedAccessToken? Token, TokenRefusal? Refusal)> CheckBindingAsync(HttpRequest request, ClaimsPrincipal principal, string scheme)
    {
        if (principal.GetClaim(Claims.Subject) is not { } subject
            || (principal.GetClaim(Claims.ClientId) ?? principal.GetPresenters().FirstOrDefault()) is not { } clientId
            || principal.GetClaim(TokenClaims.DeviceId) is not { } deviceId)
            return (null, Invalid(scheme));
        var token = new ValidatedAccessToken(subject, clientId, deviceId, [.. principal.GetScopes()], JktOf(principal));

        if (token.Jkt is null)
        {
            return scheme == "DPoP"
                ? (null, new TokenRefusal("invalid_token", "This access token is not DPoP-bound; send it as a Bearer token.", "DPoP"))
                : (token, null);
        }
        if (scheme != "DPoP")
            return (null, new TokenRefusal("invalid_token", "This access token is DPoP-bound: use the DPoP scheme with a proof.", "DPoP"));

        var proof = await dpop.ValidateAsync(request, Handlers.ProofOfPossessionHandlers.DpopSchemeToken(request));
        if (proof.NonceMissing)
            return (null, new TokenRefusal("use_dpop_nonce", proof.Error, "DPoP", dpop.CurrentNonce()));
        if (proof.Proof is null)
            return (null, new TokenRefusal("invalid_dpop_proof", proof.Error ?? "A DPoP proof is required.", "DPoP"));
        if (proof.Proof.Jkt != token.Jkt)
            return (null, new TokenRefusal("invalid_dpop_proof", "The DPoP proof is signed by another key than the token is bound to.", "DPoP"));
        return (token, null);
    }

    /// <summary>RFC 9449 §6.1: the thumbprint in <c>cnf.jkt</c>, or null for an unbound token.</summary>
    private static string? JktOf(ClaimsPrincipal principal)
    {
        if (principal.GetClaim(TokenClaims.Confirmation) is not { } cnf) return null;
        try
        {
            using var json = JsonDocument.Parse(cnf);
            return json.RootElement.TryGetProperty("jkt", out var jkt) ? jkt.GetString() : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>The 401 challenge for a refusal (RFC 6750 §3, RFC 9449 §7.1).</summary>
    public static void Challenge(HttpResponse response, TokenRefusal refusal)
    {
        response.StatusCode = StatusCodes.Status401Unauthorized;
        // RFC 7235 §2.1: the scheme, a space, then comma-separated parameters.
        var parameters = new List<string>();
        if (refusal.Scheme == "DPoP")
        {
            var algorithms = response.HttpContext.RequestServices.GetRequiredService<DpopProofValidator>().AcceptedAlgorithms;
            parameters.Add($"algs=\"{string.Join(' ', algorithms)}\"");
        }
        if (refusal.Error is not null)
        {
            parameters.Add($"error=\"{refusal.Error}\"");
            parameters.Add($"error_description=\"{refusal.Description}\"");
        }
        response.Headers.WWWAuthenticate = parameters.Count == 0 ? refusal.Scheme : $"{refusal.Scheme} {string.Join(", ", parameters)}";
        if (refusal.DpopNonce is not null) response.Headers[DpopProofValidator.NonceHeader] = refusal.DpopNonce;
    }
}
