namespace AuthServer.Tests.Cluster;

/// <summary>
/// Waiting for something another connection or process does (an event to arrive, a server to come up): bounded
/// polling with a timeout, never a fixed sleep, so a test is as fast as the system and fails instead of hanging.
/// </summary>
internal static class Eventually
{
    public static async Task<T> GetAsync<T>(Func<Task<T?>> probe, string what, TimeSpan? timeout = null) where T : class
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(20));
        while (true)
        {
            if (await probe() is { } found) return found;
            if (DateTime.UtcNow > deadline) throw new ShouldAssertException($"timed out waiting for {what}");
            await Task.Delay(25);
        }
    }

    public static async Task TrueAsync(Func<Task<bool>> probe, string what, TimeSpan? timeout = null) =>
        await GetAsync(async () => await probe() ? "" : null, what, timeout);

    public static Task TrueAsync(Func<bool> probe, string what, TimeSpan? timeout = null) =>
        TrueAsync(() => Task.FromResult(probe()), what, timeout);
}
