using OpenIddict.Abstractions;
using System.Net.Http.Headers;
using System.Text;
using AuthServer.Clients;
using AuthServer.Data.Entities;

namespace AuthServer.Protocol;

/// <summary>
/// Identifies the client of a request to our own client-facing endpoint, the push stream, as OpenIddict does at the
/// token endpoint (RFC 6749 §2.3): confidential clients with <c>client_secret_basic</c> or <c>client_secret_post</c>,
/// checked by OpenIddict's application manager; public clients by <c>client_id</c> alone.
/// </summary>
public sealed class ClientAuthenticator(ClientStore clients)
{
    /// <summary>
    /// Reads a protocol POST and authenticates its client: the first steps of every client-facing endpoint. A
    /// confidential client's secret is checked by OpenIddict's application manager from <paramref name="services"/>,
    /// a scope the caller owns (the push stream's is gone before the stream starts).
    /// </summary>
    public async Task<(ProtocolRequest? Request, Client? Client, OAuthError? Error)> ReadAndAuthenticateAsync(HttpContext context, IServiceProvider services)
    {
        var (request, error) = await ProtocolRequest.ReadAsync(context);
        if (error is not null) return (null, null, error);
        var (client, clientError) = await AuthenticateAsync(context, request!, services);
        return clientError is not null ? (null, null, clientError) : (request, client, null);
    }

    public async Task<(Client? Client, OAuthError? Error)> AuthenticateAsync(HttpContext context, ProtocolRequest request, IServiceProvider services)
    {
        var bodyId = request["client_id"];
        var bodySecret = request["client_secret"];
        string? clientId = bodyId, secret = bodySecret;

        if (context.Request.Headers.Authorization is { Count: > 0 } header)
        {
            if (!TryReadBasic(header.ToString(), out var basicId, out var basicSecret))
                return (null, OAuthError.InvalidClient("The Authorization header is not valid HTTP Basic client authentication."));
            // §2.3: a client must not use more than one authentication method in a request.
            if (bodySecret is not null)
                return (null, OAuthError.InvalidRequest("Use either client_secret_basic or client_secret_post, not both."));
            if (bodyId is not null && bodyId != basicId)
                return (null, OAuthError.InvalidClient("client_id does not match the authenticated client."));
            (clientId, secret) = (basicId, basicSecret);
        }

        if (string.IsNullOrEmpty(clientId))
            return (null, OAuthError.InvalidClient("The client is not identified: send client_id."));

        var client = clients.Find(clientId);
        // Unknown client and wrong secret answer alike, so the endpoint does not reveal which client ids exist.
        if (client is null)
            return (null, OAuthError.InvalidClient("Client authentication failed."));
        // As OpenIddict refuses a disabled client at its own endpoints (it holds no endpoint permission).
        if (client.Disabled)
            return (null, new OAuthError("unauthorized_client", "This client is disabled."));

        if (client.Type == ClientType.Public)
        {
            return string.IsNullOrEmpty(secret)
                ? (client, null)
                : (null, OAuthError.InvalidClient("This client is public and has no secret."));
        }

        var applications = services.GetRequiredService<IOpenIddictApplicationManager>();
        return !string.IsNullOrEmpty(secret)
            && await applications.FindByClientIdAsync(client.ClientId, context.RequestAborted) is { } application
            && await applications.ValidateClientSecretAsync(application, secret, context.RequestAborted)
            ? (client, null)
            : (null, OAuthError.InvalidClient("Client authentication failed."));
    }

    /// <summary>RFC 6749 §2.3.1: both parts are form-urlencoded before being joined by a colon and base64-encoded.</summary>
    private static bool TryReadBasic(string header, out string clientId, out string secret)
    {
        clientId = secret = "";
        if (!AuthenticationHeaderValue.TryParse(header, out var value)
            || !string.Equals(value.Scheme, "Basic", StringComparison.OrdinalIgnoreCase)
            || value.Parameter is null)
            return false;

        string decoded;
        try
        {
            decoded = Encoding.UTF8.GetString(Convert.FromBase64String(value.Parameter));
        }
        catch (FormatException)
        {
            return false;
        }
        var colon = decoded.IndexOf(':');
        if (colon <= 0) return false;
        clientId = FormDecode(decoded[..colon]);
        secret = FormDecode(decoded[(colon + 1)..]);
        return clientId.Length > 0;
    }

    private static string FormDecode(string value) => Uri.UnescapeDataString(value.Replace('+', ' '));
}
