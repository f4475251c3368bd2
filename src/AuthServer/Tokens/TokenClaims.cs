namespace AuthServer.Tokens;

/// <summary>The claims of our own that tokens carry.</summary>
public static class TokenClaims
{
    /// <summary>The linked device (OpenIddict authorization) a token was issued to; in access and ID tokens.</summary>
    public const string DeviceId = "device_id";

    /// <summary>RFC 7800 / RFC 9449 §6.1: <c>cnf</c> with the DPoP key's thumbprint, in access tokens.</summary>
    public const string Confirmation = "cnf";

    /// <summary>The DPoP key a public client's refresh token is bound to (RFC 9449 §5); read only by our token endpoint.</summary>
    public const string RefreshTokenJkt = "authserver_dpop_jkt";

    /// <summary>The DPoP key an authorization code is bound to by <c>dpop_jkt</c> at the authorization endpoint (RFC 9449 §10).</summary>
    public const string AuthorizationCodeJkt = "authserver_code_jkt";

    /// <summary>Whether <paramref name="value"/> has the shape of a JWK SHA-256 thumbprint (RFC 7638): 43 base64url characters.</summary>
    public static bool IsThumbprint(string value) => value.Length == 43 && value.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_');

    public const string ThumbprintRule = "dpop_jkt must be a base64url SHA-256 JWK thumbprint (RFC 7638).";

    /// <summary>When the refresh token family ends (Unix seconds), carried from one rotation to the next.</summary>
    public const string FamilyExpiresAt = "authserver_family_exp";
}
