using System.ComponentModel.DataAnnotations;

namespace ResourceApi;

/// <summary>The API's settings, read from the root of the configuration (<c>Authority</c>, <c>Audience</c>, …).</summary>
public sealed class ResourceApiOptions
{
    /// <summary>
    /// The authorization server's issuer identifier, e.g. <c>https://login.example.com/</c>. Its discovery document is
    /// at <c>{Authority}/.well-known/openid-configuration</c>, and its <c>issuer</c> must equal this (RFC 8414 §3.3).
    /// </summary>
    [Required] public string Authority { get; set; } = "";

    /// <summary>The <c>aud</c> this API accepts (the authorization server's <c>Tokens:Audience</c>).</summary>
    [Required] public string Audience { get; set; } = "api";

    /// <summary>Refuse an authority, and a <c>jwks_uri</c>, that is not https. Only Development turns it off.</summary>
    public bool RequireHttpsMetadata { get; set; } = true;

    /// <summary>How far the authorization server's clock may be ahead of or behind ours, for <c>exp</c> and <c>nbf</c>.</summary>
    public TimeSpan ClockSkew { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How long the handler uses fetched metadata and keys before it fetches them again (its
    /// <c>AutomaticRefreshInterval</c>, at least five minutes). Measured by the system clock: the handler takes no
    /// TimeProvider.
    /// </summary>
    public TimeSpan KeySetLifetime { get; set; } = TimeSpan.FromHours(1);

    /// <summary>
    /// A token signed by a key we do not know fetches the key set again, but not more often than this: tokens with
    /// made-up key ids must not turn this API into a flood of requests to the authorization server. The handler's
    /// <c>RefreshInterval</c>, at least one second; the first such fetch after start-up is never held back.
    /// </summary>
    public TimeSpan MinimumKeyRefreshInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How far a DPoP proof's <c>iat</c> may be from our clock, either way (RFC 9449 §11.1).</summary>
    public TimeSpan DpopProofLifetime { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>How many DPoP proof ids the replay cache holds at most.</summary>
    [Range(1, 10_000_000)] public int DpopReplayCacheSize { get; set; } = 100_000;

    /// <summary>
    /// The exact issuer string tokens must carry: the authority as configured (RFC 8414 §2 compares issuers as strings;
    /// AuthServer's issuer ends with a slash, as every OpenIddict issuer does).
    /// </summary>
    public string Issuer => Authority;
}
