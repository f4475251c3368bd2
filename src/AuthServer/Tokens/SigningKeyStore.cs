using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using AuthServer.Cluster;
using AuthServer.Data;
using AuthServer.Data.Entities;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Primitives;
using OpenIddict.Server;
using OpenIddict.Validation;
using Microsoft.IdentityModel.Tokens;

namespace AuthServer.Tokens;

/// <summary>The <c>Keys</c> configuration section: the signing-key rotation schedule.</summary>
public sealed class KeyRotationOptions
{
    public const string Section = "Keys";

    /// <summary>How long a key signs before its successor takes over.</summary>
    public TimeSpan RotationPeriod { get; set; } = TimeSpan.FromDays(30);

    /// <summary>How long the successor is published before it signs, so verifiers' JWKS caches know it in time.</summary>
    public TimeSpan PublishAhead { get; set; } = TimeSpan.FromHours(1);

    /// <summary>How long a retired key stays published: longer than any token it signed lives, plus caches.</summary>
    public TimeSpan KeepRetired { get; set; } = TimeSpan.FromDays(1);

    /// <summary>How often each node checks the schedule and reloads keys other nodes may have rotated.</summary>
    public TimeSpan CheckInterval { get; set; } = TimeSpan.FromMinutes(5);
}

/// <summary>
/// The token-signing keys: ES256 (access tokens) and RS256 (ID tokens), each with a lifecycle of
/// Next (published, not yet signing) → Current (signing) → Retired (published until its tokens have expired).
/// Persisted with the private part encrypted by ASP.NET Core Data Protection; held in memory for signing.
/// Rotation is a pair of conditional UPDATEs in one transaction, so with several nodes on one database exactly one
/// performs it; it then tells the others (<see cref="ClusterEvents"/>), which reload at once, and each node's periodic
/// reload picks up a change whose event it missed.
/// </summary>
public sealed class SigningKeyStore(
    IServiceScopeFactory scopes, IDataProtectionProvider dataProtection, IOptions<KeyRotationOptions> options, ClusterEvents events,
    TimeProvider clock, ILogger<SigningKeyStore> logger)
{
    public static readonly string[] Algorithms = [SecurityAlgorithms.EcdsaSha256, SecurityAlgorithms.RsaSha256];

    private readonly IDataProtector _protector = dataProtection.CreateProtector("AuthServer.SigningKeys.v1");
    private volatile Snapshot _snapshot = new([], [], new Dictionary<string, SigningCredentials>(), new byte[32], Fingerprint: "");

    /// <summary>The keys as published, and which rows (id, status, activation) they were built from.</summary>
    private sealed record Snapshot(
        IReadOnlyList<SecurityKey> ValidationKeys, IReadOnlyList<SigningCredentials> Published,
        IReadOnlyDictionary<string, SigningCredentials> Current, byte[] NonceKey, string Fingerprint);

    // Fired, server first, when the snapshot changes: OpenIddict's options are rebuilt with the new keys. The
    // validation options read the server's, so the server's must be stale first (a shared token let the phone API
    // refuse tokens signed by a new key).
    private CancellationTokenSource _serverKeysChanged = new();
    private CancellationTokenSource _validationKeysChanged = new();

    /// <summary>Every published key with its private part, the current ones first: what OpenIddict signs and publishes with.</summary>
    public IReadOnlyList<SigningCredentials> PublishedCredentials => _snapshot.Published;

    /// <summary>
    /// A secret every node shares without storing it anywhere new: derived (HKDF) from the current ES256 private key.
    /// Used for stateless DPoP nonces; it changes when that key rotates, which only costs clients one retry.
    /// </summary>
    public byte[] NonceKey => _snapshot.NonceKey;

    /// <summary>The public keys of every published key: what our own endpoints verify tokens with.</summary>
    public IReadOnlyList<SecurityKey> ValidationKeys => _snapshot.ValidationKeys;

    /// <summary>The credentials that sign with <paramref name="algorithm"/> now.</summary>
    public SigningCredentials GetSigningCredentials(string algorithm) =>
        _snapshot.Current.TryGetValue(algorithm, out var credentials)
            ? credentials
            : throw new InvalidOperationException($"No current signing key for {algorithm}.");


    /// <summary>Creates the keys that are missing (a current and a next one per algorithm), then loads them.</summary>
    public Task InitializeAsync(CancellationToken cancellationToken = default) => RotateAsync(force: false, cancellationToken);

    /// <summary>"Rotate now": the next key signs from now on, whatever the schedule says (e.g. after a key leaked).</summary>
    public Task RotateNowAsync(CancellationToken cancellationToken = default) => RotateAsync(force: true, cancellationToken);

    /// <summary>Brings every algorithm's keys to the schedule: a next key exists, and a due one is promoted.</summary>
    public async Task RotateAsync(bool force, CancellationToken cancellationToken = default)
    {
        var settings = options.Value;
        var changed = false;
        await using (var scope = scopes.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<AuthServerDbContext>();
            foreach (var algorithm in Algorithms)
            {
                var now = clock.GetUtcNow();
                var (current, next) = await ReadAsync(db, algorithm, cancellationToken);
                var promote = current is not null && next is not null && (force || now >= NextRotation(current, next, settings));
                if (current is not null && next is not null && !promote) continue;

                // Keys are generated (and their private parts encrypted) before the transaction: Data Protection may
                // need to write its own key ring to this database, which must not wait on our write lock.
                var newCurrent = current is null ? Generate(algorithm, SigningKeyStatus.Current, now) : null;
                var newNext = next is null || promote ? Generate(algorithm, SigningKeyStatus.Next, now) : null;

                await using var transaction = await db.BeginWriteAsync(cancellationToken);
                // Read again under the write lock: another node may have done this meanwhile.
                var (lockedCurrent, lockedNext) = await ReadAsync(db, algorithm, cancellationToken);
                if (lockedCurrent?.Id != current?.Id || lockedNext?.Id != next?.Id) continue;

                if (newCurrent is not null)
                {
                    db.SigningKeys.Add(newCurrent);
                    logger.LogInformation("Generated a current {Algorithm} signing key", algorithm);
                }
                if (promote)
                {
                    await db.SigningKeys.Where(k => k.Id == next!.Id && k.Status == SigningKeyStatus.Next)
                        .ExecuteUpdateAsync(u => u.SetProperty(k => k.Status, SigningKeyStatus.Current).SetProperty(k => k.ActivatedAt, now), cancellationToken);
                    await db.SigningKeys.Where(k => k.Id == current!.Id && k.Status == SigningKeyStatus.Current)
                        .ExecuteUpdateAsync(u => u.SetProperty(k => k.Status, SigningKeyStatus.Retired).SetProperty(k => k.RetiredAt, now), cancellationToken);
                    db.AuditEvents.Add(new AuditEvent
                    {
                        Type = Audit.SigningKeyRotated, At = now,
                        Detail = $"{algorithm}: {next!.Id} now signs; {current!.Id} retired{(force ? " (rotate now)" : "")}.",
                    });
                    logger.LogInformation("Rotated the {Algorithm} signing key: {Next} now signs, {Current} retired", algorithm, next.Id, current.Id);
                }
                if (newNext is not null) db.SigningKeys.Add(newNext);

                await db.SaveChangesAsync(cancellationToken);
                await transaction.CommitAsync(cancellationToken);
                db.ChangeTracker.Clear();
                changed = true;
            }
        }
        await ReloadAsync(cancellationToken);
        if (changed) await events.PublishAsync(ClusterEvent.SigningKeysChanged);
    }

    /// <summary>
    /// When the schedule promotes <paramref name="next"/>: once <paramref name="current"/> has signed for the rotation
    /// period and <paramref name="next"/> has been published for long enough. A node does it at its first check after.
    /// </summary>
    public static DateTimeOffset NextRotation(SigningKey current, SigningKey next, KeyRotationOptions settings)
    {
        if (current.ActivatedAt is not { } activated) return DateTimeOffset.MaxValue;
        var signedLongEnough = activated + settings.RotationPeriod;
        var publishedLongEnough = next.CreatedAt + settings.PublishAhead;
        return signedLongEnough > publishedLongEnough ? signedLongEnough : publishedLongEnough;
    }

    /// <summary>The current and the next key of each algorithm, as the database holds them now.</summary>
    public async Task<IReadOnlyList<(string Algorithm, SigningKey? Current, SigningKey? Next)>> ScheduleAsync(CancellationToken cancellationToken = default)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AuthServerDbContext>();
        var schedule = new List<(string, SigningKey?, SigningKey?)>();
        foreach (var algorithm in Algorithms)
        {
            var (current, next) = await ReadAsync(db, algorithm, cancellationToken);
            schedule.Add((algorithm, current, next));
        }
        return schedule;
    }

    private static async Task<(SigningKey? Current, SigningKey? Next)> ReadAsync(AuthServerDbContext db, string algorithm, CancellationToken cancellationToken)
    {
        var keys = await db.SigningKeys.AsNoTracking()
            .Where(k => k.Algorithm == algorithm && k.Status != SigningKeyStatus.Retired)
            .ToListAsync(cancellationToken);
        return (keys.Where(k => k.Status == SigningKeyStatus.Current).MaxBy(k => k.ActivatedAt),
                keys.Where(k => k.Status == SigningKeyStatus.Next).MaxBy(k => k.CreatedAt));
    }

    private readonly SemaphoreSlim _reloading = new(1, 1);

    /// <summary>
    /// Reads the published keys and swaps them in. Reloads run one at a time, so a slow reload that read older rows
    /// can never overwrite a newer one.
    /// </summary>
    public async Task ReloadAsync(CancellationToken cancellationToken = default)
    {
        await _reloading.WaitAsync(cancellationToken);
        try
        {
            await ReloadCoreAsync(cancellationToken);
        }
        finally
        {
            _reloading.Release();
        }
    }

    private async Task ReloadCoreAsync(CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AuthServerDbContext>();
        var retiredSince = clock.GetUtcNow() - options.Value.KeepRetired;
        var published = await db.SigningKeys.AsNoTracking()
            .Where(k => k.Status != SigningKeyStatus.Retired || k.RetiredAt > retiredSince)
            .ToListAsync(cancellationToken);

        // Every node reloads on a timer; most reloads find the same keys in the same states. Keep the snapshot then:
        // rebuilding it decrypts every private key again and makes OpenIddict rebuild its options.
        var fingerprint = string.Join(';', published.OrderBy(k => k.Id, StringComparer.Ordinal).Select(k => $"{k.Id}:{k.Status}:{k.ActivatedAt?.ToUnixTimeMilliseconds()}"));
        if (fingerprint == _snapshot.Fingerprint) return;

        // Should two nodes have created a key at the same first start, both are published and the newest signs.
        // Current keys come first, so whatever OpenIddict signs without being told which key uses a current one.
        var ordered = published
            .OrderBy(k => k.Status switch { SigningKeyStatus.Current => 0, SigningKeyStatus.Next => 1, _ => 2 })
            .ThenByDescending(k => k.ActivatedAt ?? k.CreatedAt)
            .ToList();
        var credentials = ordered.ToDictionary(k => k.Id, ToCredentials);
        var current = ordered
            .Where(k => k.Status == SigningKeyStatus.Current)
            .GroupBy(k => k.Algorithm)
            .ToDictionary(g => g.Key, g => credentials[g.First().Id]);
        var validationKeys = ordered.Select(k => (SecurityKey)new JsonWebKey(k.PublicJwk) { KeyId = k.Id }).ToList();
        var nonceKey = current.TryGetValue(SecurityAlgorithms.EcdsaSha256, out var es256)
            ? HKDF.DeriveKey(HashAlgorithmName.SHA256, ((ECDsaSecurityKey)es256.Key).ECDsa.ExportECPrivateKey(), 32, info: Encoding.UTF8.GetBytes("AuthServer DPoP nonce"))
            : RandomNumberGenerator.GetBytes(32);
        _snapshot = new Snapshot(validationKeys, [.. ordered.Select(k => credentials[k.Id])], current, nonceKey, fingerprint);

        var server = Interlocked.Exchange(ref _serverKeysChanged, new CancellationTokenSource());
        var validation = Interlocked.Exchange(ref _validationKeysChanged, new CancellationTokenSource());
        server.Cancel();
        validation.Cancel();
    }

    /// <summary>Adds our published keys to OpenIddict's server options, each time those are built.</summary>
    public sealed class ServerKeys(SigningKeyStore keys) : IConfigureOptions<OpenIddictServerOptions>
    {
        public void Configure(OpenIddictServerOptions options)
        {
            if (keys.PublishedCredentials.Count == 0)
                throw new InvalidOperationException("The signing keys are not loaded yet: SigningKeyStore.InitializeAsync runs at start-up.");
            options.SigningCredentials.AddRange(keys.PublishedCredentials);
        }
    }

    public sealed class ServerKeysChanged(SigningKeyStore keys) : IOptionsChangeTokenSource<OpenIddictServerOptions>
    {
        public string? Name => Options.DefaultName;
        public IChangeToken GetChangeToken() => new CancellationChangeToken(keys._serverKeysChanged.Token);
    }

    public sealed class ValidationKeysChanged(SigningKeyStore keys) : IOptionsChangeTokenSource<OpenIddictValidationOptions>
    {
        public string? Name => Options.DefaultName;
        public IChangeToken GetChangeToken() => new CancellationChangeToken(keys._validationKeysChanged.Token);
    }

    private SigningKey Generate(string algorithm, SigningKeyStatus status, DateTimeOffset now)
    {
        (string publicJwk, byte[] pkcs8) = algorithm switch
        {
            SecurityAlgorithms.EcdsaSha256 => GenerateEc(),
            SecurityAlgorithms.RsaSha256 => GenerateRsa(),
            _ => throw new NotSupportedException(algorithm),
        };
        return new SigningKey
        {
            Id = Thumbprint(publicJwk),
            Algorithm = algorithm,
            Status = status,
            PublicJwk = publicJwk,
            ProtectedPrivateKey = Convert.ToBase64String(_protector.Protect(pkcs8)),
            CreatedAt = now,
            ActivatedAt = status == SigningKeyStatus.Current ? now : null,
        };

        static (string, byte[]) GenerateEc()
        {
            using var ec = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            var p = ec.ExportParameters(false);
            // Members in lexicographic order: this string is also the RFC 7638 §3.2 thumbprint input.
            var jwk = $"{{\"crv\":\"P-256\",\"kty\":\"EC\",\"x\":\"{Base64UrlEncoder.Encode(p.Q.X)}\",\"y\":\"{Base64UrlEncoder.Encode(p.Q.Y)}\"}}";
            return (jwk, ec.ExportPkcs8PrivateKey());
        }

        static (string, byte[]) GenerateRsa()
        {
            using var rsa = RSA.Create(2048);
            var p = rsa.ExportParameters(false);
            var jwk = $"{{\"e\":\"{Base64UrlEncoder.Encode(p.Exponent)}\",\"kty\":\"RSA\",\"n\":\"{Base64UrlEncoder.Encode(p.Modulus)}\"}}";
            return (jwk, rsa.ExportPkcs8PrivateKey());
        }
    }

    /// <summary>RFC 7638: the SHA-256 of the required members, in lexicographic order, without white space.</summary>
    private static string Thumbprint(string canonicalJwk) =>
        Base64UrlEncoder.Encode(SHA256.HashData(Encoding.UTF8.GetBytes(canonicalJwk)));

    private SigningCredentials ToCredentials(SigningKey key)
    {
        var pkcs8 = _protector.Unprotect(Convert.FromBase64String(key.ProtectedPrivateKey));
        SecurityKey securityKey;
        if (key.Algorithm == SecurityAlgorithms.EcdsaSha256)
        {
            var ec = ECDsa.Create();
            ec.ImportPkcs8PrivateKey(pkcs8, out _);
            securityKey = new ECDsaSecurityKey(ec) { KeyId = key.Id };
        }
        else
        {
            var rsa = RSA.Create();
            rsa.ImportPkcs8PrivateKey(pkcs8, out _);
            securityKey = new RsaSecurityKey(rsa) { KeyId = key.Id };
        }
        CryptographicOperations.ZeroMemory(pkcs8);
        return new SigningCredentials(securityKey, key.Algorithm);
    }

}
