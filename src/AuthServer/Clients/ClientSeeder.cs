using AuthServer.Data;
using AuthServer.Data.Entities;
using AuthServer.Tokens;
using Microsoft.EntityFrameworkCore;

namespace AuthServer.Clients;

/// <summary>Upserts the <c>Clients</c> configuration section into the database at start-up.</summary>
public sealed class ClientSeeder(AuthServerDbContext db, IConfiguration configuration, ScopeCatalog scopes, TimeProvider clock, ILogger<ClientSeeder> logger)
{
    public const string Section = "Clients";

    public async Task SeedAsync(CancellationToken cancellationToken = default)
    {
        var definitions = configuration.GetSection(Section).Get<Dictionary<string, ClientDefinition>>() ?? [];
        var now = clock.GetUtcNow();
        foreach (var (clientId, definition) in definitions)
        {
            Validate(clientId, definition, scopes);
            var client = await db.Clients.FindAsync([clientId], cancellationToken);
            if (client is null)
            {
                client = new Client { ClientId = clientId, DisplayName = clientId };
                db.Clients.Add(client);
            }
            client.DisplayName = definition.DisplayName ?? clientId;
            client.Type = definition.Type;
            client.SecretHashes = [.. definition.SecretHashes, .. definition.Secrets.Select(ClientSecretHasher.Hash)];
            client.GrantTypes = [.. definition.GrantTypes];
            client.Scopes = [.. definition.Scopes];
            client.RedirectUris = [.. definition.RedirectUris];
            client.PostLogoutRedirectUris = [.. definition.PostLogoutRedirectUris];
            client.AllowedCorsOrigins = [.. definition.AllowedCorsOrigins];
            client.DeviceCodeLifetimeSeconds = (int)definition.DeviceCodeLifetime.TotalSeconds;
            client.PollIntervalSeconds = (int)definition.PollInterval.TotalSeconds;
            client.FirstParty = definition.FirstParty;
            client.NumberMatching = definition.NumberMatching;
            client.RequireDpop = definition.RequireDpop;
            client.RefreshTokenAbsoluteLifetimeSeconds = (int)definition.RefreshTokenAbsoluteLifetime.TotalSeconds;
            client.RefreshTokenIdleLifetimeSeconds = (int)definition.RefreshTokenIdleLifetime.TotalSeconds;
            // Empty (a JSON null or "") means unset, as in a configuration override that removes it.
            client.IdTokenSignedResponseAlg = string.IsNullOrEmpty(definition.IdTokenSignedResponseAlg) ? null : definition.IdTokenSignedResponseAlg;
            client.UpdatedAt = now;
        }
        await db.SaveChangesAsync(cancellationToken);
        logger.LogInformation("Registered {Count} clients from configuration", definitions.Count);
    }

    /// <summary>A broken client definition stops start-up with a message naming it, rather than failing at first use.</summary>
    private static void Validate(string clientId, ClientDefinition definition, ScopeCatalog scopes)
    {
        void Fail(string why) => throw new InvalidOperationException($"Clients:{clientId}: {why}");

        if (definition.Type == ClientType.Confidential && definition.SecretHashes.Count + definition.Secrets.Count == 0)
            Fail("a confidential client needs at least one secret hash.");
        if (definition.Type == ClientType.Public && definition.SecretHashes.Count + definition.Secrets.Count > 0)
            Fail("a public client cannot have secrets.");
        if (definition.SecretHashes.FirstOrDefault(h => !ClientSecretHasher.IsWellFormed(h)) is { } bad)
            Fail($"'{bad}' is not a secret hash; create one with 'hash-secret'.");
        if (definition.DeviceCodeLifetime < TimeSpan.FromSeconds(1) || definition.DeviceCodeLifetime > TimeSpan.FromHours(1))
            Fail("DeviceCodeLifetime must be between 1 second and 1 hour.");
        if (definition.PollInterval < TimeSpan.FromSeconds(1) || definition.PollInterval > TimeSpan.FromMinutes(1))
            Fail("PollInterval must be between 1 second and 1 minute.");
        if (definition.RefreshTokenIdleLifetime <= TimeSpan.Zero || definition.RefreshTokenIdleLifetime > definition.RefreshTokenAbsoluteLifetime)
            Fail("RefreshTokenIdleLifetime must be positive and no longer than RefreshTokenAbsoluteLifetime.");
        foreach (var scope in definition.Scopes.Where(s => !scopes.IsKnown(s)))
            Fail($"scope '{scope}' is not declared in the Scopes section.");
        foreach (var grant in definition.GrantTypes.Where(g => !GrantTypes.Supported.Contains(g)))
            Fail($"grant type '{grant}' is not supported.");
        if (definition.IdTokenSignedResponseAlg is { Length: > 0 } alg && !SigningKeyStore.Algorithms.Contains(alg))
            Fail($"IdTokenSignedResponseAlg must be one of {string.Join(", ", SigningKeyStore.Algorithms)}.");
        foreach (var origin in definition.AllowedCorsOrigins)
            if (!Uri.TryCreate(origin, UriKind.Absolute, out var parsed) || parsed.GetLeftPart(UriPartial.Authority) != origin)
                Fail($"'{origin}' is not an origin (scheme://host[:port], no path or trailing slash).");
        foreach (var uri in definition.RedirectUris.Concat(definition.PostLogoutRedirectUris))
            if (!Uri.TryCreate(uri, UriKind.Absolute, out var parsed) || parsed.Fragment.Length > 0)
                Fail($"'{uri}' is not an absolute URI without fragment (RFC 6749 §3.1.2).");
    }
}
