using System.Text.Json;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Tokens;

namespace ResourceApi;

/// <summary>The authorization server's signing keys could not be loaded: the API cannot judge any token.</summary>
public sealed class AuthorityUnavailableException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>The issuer and its published signing keys, as fetched at <see cref="FetchedAt"/>.</summary>
public sealed record AuthorityKeySet(string Issuer, IReadOnlyList<JsonWebKey> Keys, DateTimeOffset FetchedAt)
{
    public bool Has(string keyId) => Keys.Any(k => k.KeyId == keyId);
}

/// <summary>
/// Fetches the authorization server's metadata (<c>/.well-known/openid-configuration</c>) and, from its
/// <c>jwks_uri</c>, the public signing keys; caches them for <see cref="ResourceApiOptions.KeySetLifetime"/>.
/// A token whose <c>kid</c> is not in the cache fetches them again at once (the server rotated its keys), at most once
/// per <see cref="ResourceApiOptions.MinimumKeyRefreshInterval"/>. So key rotation needs no restart here.
/// HTTP goes through the named client <see cref="HttpClientName"/>, which tests route to an in-memory server.
/// </summary>
public sealed class AuthorityKeys(IHttpClientFactory httpClients, IOptions<ResourceApiOptions> options, TimeProvider clock, ILogger<AuthorityKeys> logger)
{
    public const string HttpClientName = "authority";
    public const string DiscoveryPath = "/.well-known/openid-configuration";

    private readonly SemaphoreSlim _gate = new(1, 1);
    private volatile AuthorityKeySet? _current;
    private DateTimeOffset _lastAttempt = DateTimeOffset.MinValue;

    /// <summary>
    /// The key set to verify a token signed with <paramref name="keyId"/>: the cached one while it is fresh and knows
    /// the key, otherwise a newly fetched one (rate-limited). Throws <see cref="AuthorityUnavailableException"/> only
    /// when no key set has ever been loaded.
    /// </summary>
    public async Task<AuthorityKeySet> GetAsync(string? keyId, CancellationToken cancellationToken)
    {
        if (Usable(_current, keyId) is { } cached) return cached;

        await _gate.WaitAsync(cancellationToken);
        try
        {
            // Another request may have fetched while this one waited.
            var current = _current;
            if (Usable(current, keyId) is { } fresh) return fresh;

            // Rate limit: at most one fetch per interval, whatever the reason. Meanwhile a token with an unknown kid
            // is judged against the keys we have (and fails), and a stale set is used a little longer.
            var now = clock.GetUtcNow();
            if (now - _lastAttempt < options.Value.MinimumKeyRefreshInterval)
                return current ?? throw new AuthorityUnavailableException("The authorization server's keys could not be loaded; retrying shortly.");

            _lastAttempt = now;
            try
            {
                var loaded = await FetchAsync(now, cancellationToken);
                _current = loaded;
                logger.LogInformation("Loaded {Count} signing keys of {Issuer}: {KeyIds}", loaded.Keys.Count, loaded.Issuer, string.Join(", ", loaded.Keys.Select(k => k.KeyId)));
                return loaded;
            }
            catch (Exception ex) when (ex is HttpRequestException or JsonException or ArgumentException or InvalidOperationException
                                           or TaskCanceledException && !cancellationToken.IsCancellationRequested)
            {
                if (current is null)
                    throw new AuthorityUnavailableException("The authorization server's keys could not be loaded.", ex);
                logger.LogWarning(ex, "Could not refresh the signing keys of {Authority}; using the ones loaded at {FetchedAt}", options.Value.Issuer, current.FetchedAt);
                return current;
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    private AuthorityKeySet? Usable(AuthorityKeySet? set, string? keyId) =>
        set is not null
        && clock.GetUtcNow() - set.FetchedAt < options.Value.KeySetLifetime
        && (string.IsNullOrEmpty(keyId) || set.Has(keyId))
            ? set
            : null;

    private async Task<AuthorityKeySet> FetchAsync(DateTimeOffset now, CancellationToken cancellationToken)
    {
        var settings = options.Value;
        var http = httpClients.CreateClient(HttpClientName);

        using var metadata = JsonDocument.Parse(await http.GetStringAsync(settings.Issuer + DiscoveryPath, cancellationToken));
        // RFC 8414 §3.3: the metadata must name exactly the issuer we asked, or it is another server's.
        var issuer = metadata.RootElement.TryGetProperty("issuer", out var i) && i.ValueKind == JsonValueKind.String ? i.GetString() : null;
        if (issuer != settings.Issuer)
            throw new InvalidOperationException($"The discovery document names the issuer '{issuer}', not '{settings.Issuer}'.");
        var jwksUri = metadata.RootElement.TryGetProperty("jwks_uri", out var j) && j.ValueKind == JsonValueKind.String ? j.GetString() : null;
        if (!Uri.TryCreate(jwksUri, UriKind.Absolute, out var jwksLocation)
            || (settings.RequireHttpsMetadata && jwksLocation.Scheme != Uri.UriSchemeHttps))
            throw new InvalidOperationException($"The discovery document's jwks_uri '{jwksUri}' is not a usable {(settings.RequireHttpsMetadata ? "https " : "")}URL.");

        var set = new JsonWebKeySet(await http.GetStringAsync(jwksLocation, cancellationToken));
        // Only public signature keys with an id; anything else in the set is ignored, never trusted.
        var keys = set.Keys
            .Where(k => k.Kty is JsonWebAlgorithmsKeyTypes.EllipticCurve or JsonWebAlgorithmsKeyTypes.RSA
                        && (string.IsNullOrEmpty(k.Use) || k.Use == JsonWebKeyUseNames.Sig)
                        && !string.IsNullOrEmpty(k.KeyId)
                        && !k.HasPrivateKey)
            .ToList();
        return new AuthorityKeySet(issuer, keys, now);
    }
}
