using AuthServer.Clients;
using AuthServer.DeviceFlow;
using AuthServer.Hosting;
using AuthServer.Tokens;

namespace AuthServer.Protocol;

/// <summary><c>POST /connect/device</c>: the device authorization endpoint (RFC 8628 §3.1–3.2).</summary>
public static class DeviceAuthorizationEndpoint
{
    public const string Path = "/connect/device";

    public sealed record Response(
        string DeviceCode,
        string UserCode,
        string VerificationUri,
        string VerificationUriComplete,
        int ExpiresIn,
        int Interval);

    public static async Task<IResult> HandleAsync(
        HttpContext context,
        ClientAuthenticator authenticator,
        ScopeCatalog scopes,
        DeviceFlowService flow,
        IssuerResolver issuers)
    {
        // §3.1: the client authenticates as it would at the token endpoint.
        var (request, client, error) = await authenticator.ReadAndAuthenticateAsync(context);
        if (error is not null) return error;

        if (!client!.GrantTypes.Contains(GrantTypes.DeviceCode))
            return OAuthError.UnauthorizedClient("This client may not use the device authorization grant.");

        if (AuthorizationRequestValidator.ResolveScopes(request!.Scopes, client, scopes) is not { } granted)
            return OAuthError.InvalidScope("A requested scope is unknown or not allowed for this client.");

        var deviceName = request!["device_name"]?.Trim();
        if (deviceName is { Length: > LinkedDevices.MaxNameLength } || deviceName?.Any(char.IsControl) == true)
            return OAuthError.InvalidRequest($"device_name must be at most {LinkedDevices.MaxNameLength} printable characters.");

        // Bound from the start (RFC 9449 §10, applied to the device flow): a proof, or a dpop_jkt, names the screen's key,
        // and polling, the push stream and redemption then need proofs from it.
        var (dpop, dpopError) = await TokenEndpoint.CheckDpopAsync(context, client);
        if (dpopError is not null) return dpopError;
        var dpopJkt = request["dpop_jkt"];
        if (dpopJkt is not null && dpop is not null && dpopJkt != dpop.Jkt)
            return OAuthError.InvalidDpopProof("dpop_jkt does not match the key of the DPoP proof.");
        dpopJkt ??= dpop?.Jkt;
        if (dpopJkt is { Length: not 43 })
            return OAuthError.InvalidRequest("dpop_jkt must be a base64url SHA-256 JWK thumbprint (RFC 7638).");

        // Extension for QR rotation: the screen names the request its new one replaces, which then can no longer be
        // approved (Pending/Scanned → Superseded). It must be this client's own request.
        DeviceAuthorizationState? superseded = null;
        if (request["superseded_device_code"] is { } previous)
        {
            var old = await flow.FindByDeviceCodeAsync(previous, context.RequestAborted);
            if (old is null || old.State.ClientId != client.ClientId)
                return OAuthError.InvalidGrant("superseded_device_code is not a device code of this client.");
            // A bound request can only be replaced by the screen holding its key; a leaked device code cannot cancel it.
            if (!old.State.AcceptsProofFrom(dpop?.Jkt))
                return OAuthError.InvalidDpopProof("The request to supersede is bound to a DPoP key: send a proof made with it.");
            superseded = old.State;
        }

        var created = await flow.CreateAsync(
            client,
            string.Join(' ', granted),
            string.IsNullOrEmpty(deviceName) ? null : deviceName,
            context.Connection.RemoteIpAddress?.ToString(),
            LinkedDevices.Truncate(context.Request.Headers.UserAgent.ToString()),
            dpopJkt,
            context.RequestAborted);

        if (superseded is not null) await flow.SupersedeAsync(superseded.Id, context.RequestAborted);

        var issuer = issuers.Resolve(context.Request);
        return ProtocolResponse.Json(new Response(
            created.DeviceCode,
            UserCode.Format(created.State.UserCode),
            issuer + VerificationPath,
            VerificationUriComplete(issuer, created.State.UserCode),
            client.DeviceCodeLifetimeSeconds,
            client.PollIntervalSeconds));
    }

    public const string VerificationPath = "/device";

    /// <summary>§3.3.1: the verification URI with the user code in it, so a QR scan needs no typing.</summary>
    public static string VerificationUriComplete(string issuer, string normalizedUserCode) =>
        $"{issuer}{VerificationPath}?user_code={UserCode.Format(normalizedUserCode)}";
}
