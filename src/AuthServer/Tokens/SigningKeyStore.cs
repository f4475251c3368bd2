using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using AuthServer.Data;
using AuthServer.Data.Entities;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.EntityFrameworkCore;
using Microsoft.IdentityModel.Tokens;

namespace AuthServer.Tokens;

/// <summary>
/// The token-signing keys: an ES256 key (access tokens) and an RS256 key (ID tokens), generated at first start and
/// persisted with the private part encrypted by ASP.NET Core Data Protection. Held in memory for signing.
/// </summary>
public sealed class SigningKeyStore(IServiceScopeFactory scopes, IDataProtectionProvider dataProtection, TimeProvider clock, ILogger<SigningKeyStore> logger)
{
    public static readonly string[] Algorithms = [SecurityAlgorithms.EcdsaSha256, SecurityAlgorithms.RsaSha256];

    private readonly IDataProtector _protector = dataProtection.CreateProtector("AuthServer.SigningKeys.v1");
    private volatile Snapshot _snapshot = new([], new Dictionary<string, SigningCredentials>(), "{\"keys\":[]}");

    private sealed record Snapshot(IReadOnlyList<SecurityKey> ValidationKeys, IReadOnlyDictionary<string, SigningCredentials> Current, string JwksJson);

    /// <summary>The public keys of every published key: what our own endpoints verify tokens with.</summary>
    public IReadOnlyList<SecurityKey> ValidationKeys => _snapshot.ValidationKeys;

    /// <summary>The credentials that sign with <paramref name="algorithm"/> now.</summary>
    public SigningCredentials GetSigningCredentials(string algorithm) =>
        _snapshot.Current.TryGetValue(algorithm, out var credentials)
            ? credentials
            : throw new InvalidOperationException($"No current signing key for {algorithm}.");

    /// <summary>The JSON Web Key Set (RFC 7517 §5) of every published key, serialized once per key change.</summary>
    public string JwksJson => _snapshot.JwksJson;

    /// <summary>Creates a current key for each algorithm that has none, then loads the published keys.</summary>
    public async Task InitializeAsync(CancellationToken cancellationToken = default)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AuthServerDbContext>();
        foreach (var algorithm in Algorithms)
        {
            if (await db.SigningKeys.AnyAsync(k => k.Algorithm == algorithm && k.Status == SigningKeyStatus.Current, cancellationToken))
                continue;
            db.SigningKeys.Add(Generate(algorithm));
            logger.LogInformation("Generated a new {Algorithm} signing key", algorithm);
        }
        await db.SaveChangesAsync(cancellationToken);
        await ReloadAsync(cancellationToken);
    }

    public async Task ReloadAsync(CancellationToken cancellationToken = default)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AuthServerDbContext>();
        var published = await db.SigningKeys.AsNoTracking()
            .Where(k => k.Status != SigningKeyStatus.Retired)
            .ToListAsync(cancellationToken);

        // Should two nodes have created a key at the same first start, both are published and the newest signs.
        var current = published
            .Where(k => k.Status == SigningKeyStatus.Current)
            .GroupBy(k => k.Algorithm)
            .ToDictionary(g => g.Key, g => ToCredentials(g.OrderByDescending(k => k.ActivatedAt).First()));

        var jwks = new JsonObject
        {
            ["keys"] = new JsonArray(published.Select(k =>
            {
                var jwk = JsonNode.Parse(k.PublicJwk)!.AsObject();
                jwk["use"] = "sig";
                jwk["alg"] = k.Algorithm;
                jwk["kid"] = k.Id;
                return (JsonNode)jwk;
            }).ToArray()),
        };
        var validationKeys = published.Select(k => (SecurityKey)new JsonWebKey(k.PublicJwk) { KeyId = k.Id }).ToList();
        _snapshot = new Snapshot(validationKeys, current, jwks.ToJsonString());
    }

    private SigningKey Generate(string algorithm)
    {
        var now = clock.GetUtcNow();
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
            Status = SigningKeyStatus.Current,
            PublicJwk = publicJwk,
            ProtectedPrivateKey = Convert.ToBase64String(_protector.Protect(pkcs8)),
            CreatedAt = now,
            ActivatedAt = now,
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
