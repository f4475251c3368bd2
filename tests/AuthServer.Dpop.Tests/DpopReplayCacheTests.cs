using Microsoft.Extensions.Options;

namespace AuthServer.Dpop.Tests;

/// <summary>The bounded replay cache (RFC 9449 §11.1) on its own: it never grows past its size, and never forgets a live proof.</summary>
public sealed class DpopReplayCacheTests
{
    private static readonly DateTimeOffset Start = new(2026, 3, 1, 12, 0, 0, TimeSpan.Zero);

    private static DpopReplayCache Cache(int size) => new(Options.Create(new DpopOptions { ReplayCacheSize = size }));

    [Fact]
    public void A_key_is_new_once_and_replayed_while_it_is_live()
    {
        var cache = Cache(10);

        cache.TryUse("k:1", Start.AddSeconds(60), Start).ShouldBe(DpopReplayCache.Outcome.New);
        cache.TryUse("k:1", Start.AddSeconds(120), Start.AddSeconds(30)).ShouldBe(DpopReplayCache.Outcome.Replayed);
        cache.TryUse("k:1", Start.AddSeconds(120), Start.AddSeconds(60)).ShouldBe(DpopReplayCache.Outcome.Replayed, "live up to and including its time");
        cache.Count.ShouldBe(1);
    }

    [Fact]
    public void When_full_of_live_entries_a_new_key_is_refused_and_nothing_is_forgotten()
    {
        var cache = Cache(3);
        for (var i = 0; i < 3; i++) cache.TryUse($"k:{i}", Start.AddSeconds(60), Start).ShouldBe(DpopReplayCache.Outcome.New);

        cache.TryUse("k:new", Start.AddSeconds(60), Start.AddSeconds(10)).ShouldBe(DpopReplayCache.Outcome.Full);

        cache.Count.ShouldBe(3);
        // Refusing the new one kept the old ones: each is still a replay.
        for (var i = 0; i < 3; i++) cache.TryUse($"k:{i}", Start.AddSeconds(90), Start.AddSeconds(10)).ShouldBe(DpopReplayCache.Outcome.Replayed);
    }

    [Fact]
    public void When_full_the_stale_entries_make_room_and_the_live_ones_stay()
    {
        var cache = Cache(3);
        cache.TryUse("k:early", Start.AddSeconds(10), Start).ShouldBe(DpopReplayCache.Outcome.New);
        cache.TryUse("k:late-1", Start.AddSeconds(100), Start).ShouldBe(DpopReplayCache.Outcome.New);
        cache.TryUse("k:late-2", Start.AddSeconds(100), Start).ShouldBe(DpopReplayCache.Outcome.New);

        var now = Start.AddSeconds(11);
        cache.TryUse("k:new", now.AddSeconds(60), now).ShouldBe(DpopReplayCache.Outcome.New);

        cache.Count.ShouldBe(3);
        cache.TryUse("k:late-1", now.AddSeconds(60), now).ShouldBe(DpopReplayCache.Outcome.Replayed);
        cache.TryUse("k:another", now.AddSeconds(60), now).ShouldBe(DpopReplayCache.Outcome.Full);
    }

    [Fact]
    public void A_stale_entry_is_renewed_in_place_without_taking_another_place()
    {
        var cache = Cache(1);
        cache.TryUse("k:1", Start.AddSeconds(60), Start).ShouldBe(DpopReplayCache.Outcome.New);

        var later = Start.AddSeconds(61);
        cache.TryUse("k:1", later.AddSeconds(60), later).ShouldBe(DpopReplayCache.Outcome.New);

        cache.Count.ShouldBe(1);
        cache.TryUse("k:1", later.AddSeconds(60), later.AddSeconds(1)).ShouldBe(DpopReplayCache.Outcome.Replayed);
    }

    [Fact]
    public void Concurrent_proofs_never_take_the_cache_past_its_size()
    {
        const int size = 100;
        var cache = Cache(size);
        var outcomes = new DpopReplayCache.Outcome[1000];

        Parallel.For(0, outcomes.Length, new ParallelOptions { MaxDegreeOfParallelism = 8 },
            i => outcomes[i] = cache.TryUse($"k:{i}", Start.AddSeconds(60), Start));

        outcomes.Count(o => o == DpopReplayCache.Outcome.New).ShouldBe(size);
        outcomes.Count(o => o == DpopReplayCache.Outcome.Full).ShouldBe(outcomes.Length - size);
        cache.Count.ShouldBe(size);
    }

    [Fact]
    public void The_same_proof_presented_concurrently_is_new_exactly_once()
    {
        var cache = Cache(10);
        var outcomes = new DpopReplayCache.Outcome[200];

        Parallel.For(0, outcomes.Length, new ParallelOptions { MaxDegreeOfParallelism = 8 },
            i => outcomes[i] = cache.TryUse("k:same", Start.AddSeconds(60), Start));

        outcomes.Count(o => o == DpopReplayCache.Outcome.New).ShouldBe(1);
        outcomes.Count(o => o == DpopReplayCache.Outcome.Replayed).ShouldBe(outcomes.Length - 1);
        cache.Count.ShouldBe(1);
    }
}
