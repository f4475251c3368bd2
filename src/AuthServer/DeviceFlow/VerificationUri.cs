using AuthServer.Hosting;

namespace AuthServer.DeviceFlow;

/// <summary>RFC 8628 §3.2–3.3.1: where the user goes, and the same with the user code in it, for a QR scan with no typing.</summary>
public static class VerificationUri
{
    public static string Of(string issuer) => issuer + OpenIddictSetup.VerificationPath;

    /// <summary>The form OpenIddict returns as <c>verification_uri_complete</c>: the code as it is displayed.</summary>
    public static string Complete(string issuer, string normalizedUserCode) =>
        $"{Of(issuer)}?user_code={UserCode.Format(normalizedUserCode)}";
}
