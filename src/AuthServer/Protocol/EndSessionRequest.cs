using AuthServer.Clients;
using AuthServer.Hosting;
using AuthServer.Tokens;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Primitives;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace AuthServer.Protocol;

/// <summary>A validated RP-initiated logout request (OpenID Connect RP-Initiated Logout 1.0 §2–3).</summary>
public sealed record EndSessionRequest(string? ClientId, string? HintSubject, string? ReturnTo)
{
    public const string Path = "/connect/endsession";
}

/// <summary>
/// Checks a logout request: the <c>id_token_hint</c> must be one of our ID tokens (expired is fine: it identifies, it
/// does not authorize), and a <c>post_logout_redirect_uri</c> must be registered, exactly, for the client it names;
/// otherwise the logout page would be an open redirector.
/// </summary>
public sealed class EndSessionRequestValidator(ClientStore clients, SigningKeyStore keys, IssuerResolver issuers)
{
    private static readonly JsonWebTokenHandler Handler = new() { MapInboundClaims = false };

    public async Task<(EndSessionRequest? Request, string? Problem)> ValidateAsync(HttpRequest http, IEnumerable<KeyValuePair<string, StringValues>> raw)
    {
        var parameters = raw.ToDictionary(p => p.Key, p => p.Value.Count == 1 && p.Value.ToString().Length > 0 ? p.Value.ToString() : null);
        string? Get(string name) => parameters.GetValueOrDefault(name);

        string? hintClient = null, hintSubject = null;
        if (Get("id_token_hint") is { } hint)
        {
            var result = await Handler.ValidateTokenAsync(hint, new TokenValidationParameters
            {
                ValidIssuer = issuers.Resolve(http),
                IssuerSigningKeys = keys.ValidationKeys,
                ValidateAudience = false,
                ValidateLifetime = false,
            });
            if (!result.IsValid) return (null, "The sign-out request carries an ID token we did not issue.");
            var token = (JsonWebToken)result.SecurityToken;
            hintClient = token.Audiences.FirstOrDefault();
            hintSubject = token.Subject;
        }

        var clientId = Get("client_id");
        if (clientId is not null && hintClient is not null && clientId != hintClient)
            return (null, "The sign-out request names two different applications.");
        clientId ??= hintClient;

        string? returnTo = null;
        if (Get("post_logout_redirect_uri") is { } redirect)
        {
            if (clientId is null || clients.Find(clientId) is not { } client
                || !client.PostLogoutRedirectUris.Contains(redirect, StringComparer.Ordinal))
                return (null, "The application asked to return to an address that is not registered for it.");
            returnTo = Get("state") is { } state ? QueryHelpers.AddQueryString(redirect, "state", state) : redirect;
        }
        return (new EndSessionRequest(clientId, hintSubject, returnTo), null);
    }
}
