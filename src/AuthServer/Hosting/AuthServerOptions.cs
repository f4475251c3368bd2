using System.ComponentModel.DataAnnotations;

namespace AuthServer.Hosting;

/// <summary>The <c>AuthServer</c> configuration section.</summary>
public sealed class AuthServerOptions
{
    public const string Section = "AuthServer";

    /// <summary>
    /// The issuer identifier (RFC 8414 §2): https, no query or fragment. When unset, each request's own origin is used,
    /// which only suits development; outside Development start-up fails without it.
    /// </summary>
    public Uri? Issuer { get; set; }

    /// <summary>Whether the Identity pages let anyone create an account.</summary>
    public bool AllowSelfRegistration { get; set; }
}

/// <summary>The <c>Tokens</c> configuration section.</summary>
public sealed class TokenOptions
{
    public const string Section = "Tokens";

    /// <summary>The <c>aud</c> of access tokens (RFC 9068 §2.2): the resource servers that accept them.</summary>
    [Required] public string Audience { get; set; } = "api";

    public TimeSpan AccessTokenLifetime { get; set; } = TimeSpan.FromMinutes(10);
    public TimeSpan IdentityTokenLifetime { get; set; } = TimeSpan.FromMinutes(10);
    /// <summary>
    /// After a refresh token is rotated, presenting it again within this leeway issues a fresh pair in the same family
    /// (the response was lost on the way); later, it is reuse and revokes the family (RFC 9700 §4.14.2).
    /// </summary>
    public TimeSpan RefreshTokenReuseLeeway { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>JWS algorithm of access tokens. ES256 is compact and fast to verify.</summary>
    public string AccessTokenAlgorithm { get; set; } = "ES256";

    /// <summary>JWS algorithm of ID tokens. RS256 is the one every OpenID client must support (OIDC Core §15.1).</summary>
    public string IdentityTokenAlgorithm { get; set; } = "RS256";

    /// <summary>Whether a refresh grant also issues a new ID token (OIDC Core §12.2 leaves it to the server).</summary>
    public bool IdentityTokenOnRefresh { get; set; }
}

/// <summary>The <c>Demo</c> section: the user seeded in Development.</summary>
public sealed class DemoOptions
{
    public const string Section = "Demo";
    public string? Email { get; set; }
    public string? Password { get; set; }
}
