using System.Security.Cryptography;
using AuthServer.Tokens;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace AuthServer.Tests.Tokens;

/// <summary>A verdict on a token is reused only for the same text, the same issuer and the same published keys.</summary>
public sealed class VerifiedAccessTokensTests
{
    private static readonly IReadOnlyList<SecurityKey> Keys = [new ECDsaSecurityKey(ECDsa.Create(ECCurve.NamedCurves.nistP256))];

    private static VerifiedAccessTokens.Entry Entry(IReadOnlyList<SecurityKey> keys) => new(
        new ValidatedAccessToken("user", "phone", "device", ["phone"], null, "jti", new JsonWebToken("eyJhbGciOiJub25lIn0.e30.")),
        DateTime.MinValue, DateTime.MaxValue, keys);

    [Fact]
    public void A_verdict_is_found_for_the_same_token_issuer_and_key_set()
    {
        var cache = new VerifiedAccessTokens();
        var entry = Entry(Keys);
        cache.Add("https://issuer", "token", entry);

        cache.Find("https://issuer", "token", Keys).ShouldBeSameAs(entry);
        cache.Find("https://issuer", "other-token", Keys).ShouldBeNull();
        cache.Find("https://another-issuer", "token", Keys).ShouldBeNull();
    }

    [Fact]
    public void When_the_published_keys_change_every_verdict_is_stale()
    {
        var cache = new VerifiedAccessTokens();
        cache.Add("https://issuer", "token", Entry(Keys));

        // A reload builds a new key list, even with the same keys in it: the token is verified again.
        IReadOnlyList<SecurityKey> reloaded = [.. Keys];
        cache.Find("https://issuer", "token", reloaded).ShouldBeNull();
    }

    [Fact]
    public void It_stays_bounded()
    {
        var cache = new VerifiedAccessTokens();
        for (var i = 0; i <= VerifiedAccessTokens.Capacity; i++) cache.Add("https://issuer", $"token-{i}", Entry(Keys));

        cache.Find("https://issuer", "token-0", Keys).ShouldBeNull();
        cache.Find("https://issuer", $"token-{VerifiedAccessTokens.Capacity}", Keys).ShouldNotBeNull();
    }
}
