using System.Security.Cryptography;
using System.Text;
using Microsoft.IdentityModel.Tokens;

namespace AuthServer.Dpop;

/// <summary>
/// The secret that server nonces are made with. Every node behind one URL must return the same one, or a nonce from
/// one node fails at the next.
/// </summary>
public interface IDpopNonceKeySource
{
    byte[] NonceKey { get; }
}

/// <summary>
/// Stateless server nonces (RFC 9449 §8): an HMAC of the current five-minute window, so no node has to store or share
/// them, only the key. A nonce of the current or the previous window is valid, so one handed out just before a window
/// ends still works for one full window.
/// </summary>
public sealed class DpopNonces(TimeProvider clock, IDpopNonceKeySource? keySource = null)
{
    public static readonly TimeSpan Window = TimeSpan.FromMinutes(5);

    // Without a shared key, one of this process's own: right for a single instance, which is all it can serve.
    private readonly byte[] _ownKey = keySource is null ? RandomNumberGenerator.GetBytes(32) : [];

    private byte[] Key => keySource?.NonceKey ?? _ownKey;

    /// <summary>The nonce to hand out now, in the <c>DPoP-Nonce</c> header.</summary>
    public string Current() => For(WindowOf(clock.GetUtcNow()));

    /// <summary>Whether <paramref name="nonce"/> is one of this window's or the previous one's.</summary>
    public bool IsValid(string nonce, DateTimeOffset now)
    {
        var window = WindowOf(now);
        // Both are compared, whatever the first gives, so the time taken says nothing about which window matched.
        var current = FixedTimeEquals(nonce, For(window));
        var previous = FixedTimeEquals(nonce, For(window - 1));
        return current | previous;
    }

    private static long WindowOf(DateTimeOffset time) => time.ToUnixTimeSeconds() / (long)Window.TotalSeconds;

    private string For(long window) => Base64UrlEncoder.Encode(HMACSHA256.HashData(Key, BitConverter.GetBytes(window)));

    private static bool FixedTimeEquals(string a, string b) =>
        CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(a), Encoding.UTF8.GetBytes(b));
}
