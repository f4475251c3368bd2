using System.Text.RegularExpressions;
using AuthServer.Tokens;

namespace AuthServer.Clients;

/// <summary>
/// What makes a client definition valid: one set of rules for configuration (a broken entry stops start-up) and for
/// the admin pages (each broken field is shown next to it). A problem names the <see cref="ClientDefinition"/> field.
/// </summary>
public static partial class ClientRules
{
    public sealed record Problem(string Field, string Message);

    public static readonly TimeSpan MinTokenLifetime = TimeSpan.FromMinutes(1);
    public static readonly TimeSpan MaxTokenLifetime = TimeSpan.FromDays(1);

    /// <summary>
    /// Client ids the admin pages accept: RFC 6749 §2.2 allows any printable ASCII, but an id also sits in URLs,
    /// configuration keys and logs, so these are letters, digits and <c>. _ ~ -</c>.
    /// </summary>
    [GeneratedRegex("^[A-Za-z0-9._~-]{1,100}$")]
    public static partial Regex ClientIdPattern();

    /// <summary>The problems of <paramref name="definition"/>; with <paramref name="withSecrets"/>, of its configured secrets too.</summary>
    public static IEnumerable<Problem> Validate(ClientDefinition definition, ScopeCatalog scopes, bool withSecrets)
    {
        if (withSecrets)
        {
            if (definition.Type == ClientType.Confidential && definition.SecretHashes.Count + definition.Secrets.Count == 0)
                yield return new(nameof(ClientDefinition.SecretHashes), "a confidential client needs at least one secret hash.");
            if (definition.Type == ClientType.Public && definition.SecretHashes.Count + definition.Secrets.Count > 0)
                yield return new(nameof(ClientDefinition.SecretHashes), "a public client cannot have secrets.");
            if (definition.SecretHashes.FirstOrDefault(h => !ClientSecretHasher.IsWellFormed(h)) is { } bad)
                yield return new(nameof(ClientDefinition.SecretHashes), $"'{bad}' is not a secret hash; create one with 'hash-secret'.");
        }
        if (definition.DisplayName is { Length: > 200 })
            yield return new(nameof(ClientDefinition.DisplayName), "DisplayName must be at most 200 characters.");
        if (definition.LogoUri is { Length: > 0 } logo
            && (!Uri.TryCreate(logo, UriKind.Absolute, out var logoUri) || logoUri.Scheme != Uri.UriSchemeHttps || logo.Length > 2000))
            yield return new(nameof(ClientDefinition.LogoUri), "LogoUri must be an https URL.");
        if (definition.DeviceCodeLifetime < TimeSpan.FromSeconds(1) || definition.DeviceCodeLifetime > TimeSpan.FromHours(1)
            || definition.DeviceCodeLifetime.Ticks % TimeSpan.TicksPerSecond != 0)
            yield return new(nameof(ClientDefinition.DeviceCodeLifetime), "DeviceCodeLifetime must be between 1 second and 1 hour, in whole seconds.");
        if (definition.PollInterval < TimeSpan.FromSeconds(1) || definition.PollInterval > TimeSpan.FromMinutes(1)
            || definition.PollInterval.Ticks % TimeSpan.TicksPerSecond != 0)
            yield return new(nameof(ClientDefinition.PollInterval), "PollInterval must be between 1 second and 1 minute, in whole seconds.");
        if (definition.RefreshTokenIdleLifetime <= TimeSpan.Zero || definition.RefreshTokenIdleLifetime > definition.RefreshTokenAbsoluteLifetime)
            yield return new(nameof(ClientDefinition.RefreshTokenIdleLifetime), "RefreshTokenIdleLifetime must be positive and no longer than RefreshTokenAbsoluteLifetime.");
        if (definition.AccessTokenLifetime is { } access && (access < MinTokenLifetime || access > MaxTokenLifetime))
            yield return new(nameof(ClientDefinition.AccessTokenLifetime), "AccessTokenLifetime must be between 1 minute and 1 day.");
        if (definition.IdentityTokenLifetime is { } identity && (identity < MinTokenLifetime || identity > MaxTokenLifetime))
            yield return new(nameof(ClientDefinition.IdentityTokenLifetime), "IdentityTokenLifetime must be between 1 minute and 1 day.");
        foreach (var scope in definition.Scopes.Where(s => !scopes.IsKnown(s)))
            yield return new(nameof(ClientDefinition.Scopes), $"scope '{scope}' is not declared in the Scopes section.");
        foreach (var grant in definition.GrantTypes.Where(g => !GrantTypes.Supported.Contains(g)))
            yield return new(nameof(ClientDefinition.GrantTypes), $"grant type '{grant}' is not supported.");
        if (definition.Type == ClientType.Public && definition.GrantTypes.Contains(GrantTypes.ClientCredentials))
            yield return new(nameof(ClientDefinition.GrantTypes), "client_credentials is for confidential clients only (RFC 6749 §4.4).");
        if (definition.IdTokenSignedResponseAlg is { Length: > 0 } alg && !SigningKeyStore.Algorithms.Contains(alg))
            yield return new(nameof(ClientDefinition.IdTokenSignedResponseAlg), $"IdTokenSignedResponseAlg must be one of {string.Join(", ", SigningKeyStore.Algorithms)}.");
        foreach (var origin in definition.AllowedCorsOrigins)
            if (!Uri.TryCreate(origin, UriKind.Absolute, out var parsed) || parsed.GetLeftPart(UriPartial.Authority) != origin)
                yield return new(nameof(ClientDefinition.AllowedCorsOrigins), $"'{origin}' is not an origin (scheme://host[:port], no path or trailing slash).");
        foreach (var (field, uris) in new[] { (nameof(ClientDefinition.RedirectUris), definition.RedirectUris), (nameof(ClientDefinition.PostLogoutRedirectUris), definition.PostLogoutRedirectUris) })
            foreach (var uri in uris)
                if (!Uri.TryCreate(uri, UriKind.Absolute, out var parsed) || parsed.Fragment.Length > 0)
                    yield return new(field, $"'{uri}' is not an absolute URI without fragment (RFC 6749 §3.1.2).");
    }
}
