using System.Collections.Concurrent;
using Microsoft.IdentityModel.Tokens;

namespace AuthServer.Tokens;

/// <summary>
/// Access tokens whose signature and claims this node has already verified. The phone presents the same token on
/// every call; verifying an ES256 signature and building its claims each time cost more than the rest of the call.
/// </summary>
/// <remarks>
/// A verdict holds only for the same token text, the same expected issuer, and the same published key set: when the
/// keys change (rotation, a key dropped), every entry is stale and the token is verified afresh. Lifetime is still
/// judged on every use by the caller, and so is whether the device was logged out or the token revoked: this caches
/// what cannot change, never what can. Bounded: past <see cref="Capacity"/> entries it starts over.
/// </remarks>
public sealed class VerifiedAccessTokens
{
    public const int Capacity = 10_000;

    private readonly ConcurrentDictionary<(string Issuer, string Token), Entry> _entries = new();

    /// <summary>What verification established about a token, against which key set.</summary>
    public sealed record Entry(ValidatedAccessToken Token, DateTime NotBefore, DateTime Expires, IReadOnlyList<SecurityKey> Keys);

    public Entry? Find(string issuer, string token, IReadOnlyList<SecurityKey> currentKeys) =>
        _entries.TryGetValue((issuer, token), out var entry) && ReferenceEquals(entry.Keys, currentKeys) ? entry : null;

    public void Add(string issuer, string token, Entry entry)
    {
        if (_entries.Count >= Capacity) _entries.Clear();
        _entries[(issuer, token)] = entry;
    }
}
