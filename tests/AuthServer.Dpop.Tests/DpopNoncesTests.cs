using Microsoft.Extensions.Time.Testing;

namespace AuthServer.Dpop.Tests;

/// <summary>Stateless server nonces (RFC 9449 §8): valid in their five-minute window and the next, on every node with the key.</summary>
public sealed class DpopNoncesTests
{
    private sealed class SharedKey(byte[] key) : IDpopNonceKeySource
    {
        public byte[] NonceKey { get; set; } = key;
    }

    private static readonly byte[] Key = Enumerable.Range(1, 32).Select(i => (byte)i).ToArray();

    // The start of a window, so the test knows exactly when the next begins.
    private readonly FakeTimeProvider _clock = new(DateTimeOffset.FromUnixTimeSeconds(1_772_366_400));

    [Fact]
    public void A_nonce_is_valid_in_its_window_and_the_next_one_and_not_after()
    {
        var nonces = new DpopNonces(_clock, new SharedKey(Key));
        var nonce = nonces.Current();
        var issued = _clock.GetUtcNow();

        nonces.IsValid(nonce, issued.AddMinutes(5).AddSeconds(-1)).ShouldBeTrue();
        nonces.IsValid(nonce, issued.AddMinutes(10).AddSeconds(-1)).ShouldBeTrue();
        nonces.IsValid(nonce, issued.AddMinutes(10)).ShouldBeFalse();
        nonces.IsValid(nonce, issued.AddMinutes(-1)).ShouldBeFalse("a nonce of a window to come was never handed out");
    }

    [Fact]
    public void The_nonce_changes_with_the_window()
    {
        var nonces = new DpopNonces(_clock, new SharedKey(Key));
        var first = nonces.Current();

        _clock.Advance(TimeSpan.FromMinutes(4));
        nonces.Current().ShouldBe(first);
        _clock.Advance(TimeSpan.FromMinutes(1));
        nonces.Current().ShouldNotBe(first);
    }

    [Fact]
    public void Every_node_with_the_shared_key_accepts_every_nodes_nonce_and_no_other_key_does()
    {
        var node1 = new DpopNonces(_clock, new SharedKey(Key));
        var node2 = new DpopNonces(_clock, new SharedKey((byte[])Key.Clone()));
        var stranger = new DpopNonces(_clock, new SharedKey(new byte[32]));

        node2.IsValid(node1.Current(), _clock.GetUtcNow()).ShouldBeTrue();
        stranger.IsValid(node1.Current(), _clock.GetUtcNow()).ShouldBeFalse();
    }

    [Fact]
    public void When_the_key_changes_the_old_nonces_end()
    {
        var key = new SharedKey(Key);
        var nonces = new DpopNonces(_clock, key);
        var before = nonces.Current();

        key.NonceKey = new byte[32];

        nonces.IsValid(before, _clock.GetUtcNow()).ShouldBeFalse();
        nonces.IsValid(nonces.Current(), _clock.GetUtcNow()).ShouldBeTrue();
    }

    [Fact]
    public void Without_a_shared_key_each_process_has_its_own()
    {
        var one = new DpopNonces(_clock);
        var other = new DpopNonces(_clock);

        one.IsValid(one.Current(), _clock.GetUtcNow()).ShouldBeTrue();
        other.IsValid(one.Current(), _clock.GetUtcNow()).ShouldBeFalse();
    }
}
