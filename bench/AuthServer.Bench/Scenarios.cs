using System.Diagnostics;
using System.Net;

namespace AuthServer.Bench;

/// <summary>The measurements of AuthServer alone (the push stream, many screens, many live requests), each bounded in time.</summary>
public sealed class Scenarios(ServerProcess server, string phoneToken)
{
    private readonly Client _client = new(server.BaseAddress);

    /// <summary>From the phone's approval to tokens in the waiting screen's hands: push stream against polling.</summary>
    /// <remarks>
    /// The clock starts when the phone sends its approval, as the target names it: the scan comes first, when the user
    /// points the phone at the screen, and the user then reads who is asking before confirming, so in use seconds of a
    /// person's time separate the two. The scan's own latency is reported beside it, and so is scan → tokens (both
    /// requests back to back, which is what this phase measured until 2026-12-03). <paramref name="warmup"/> logins run
    /// first, unrecorded: the flows phase before warms the login's requests but not the stream's, whose first logins
    /// ran on code the JIT had not yet recompiled (most of the slowest of 200 came among the first 60).
    /// </remarks>
    public async Task<List<Measure>> ApproveToTokenAsync(int samples, int warmup, int pollingScreens)
    {
        var push = new List<double>();
        var scanToToken = new List<double>();
        // Where the time goes, step by step, as the screen and the phone see it: the scan's answer, the approval's
        // answer, the approved event on the stream (which may come before the approval's answer), the redemption.
        var scanSteps = new List<double>();
        var approveSteps = new List<double>();
        var eventSteps = new List<double>();
        var redeemSteps = new List<double>();
        var cpuBefore = server.CpuTime();
        for (var i = -warmup; i < samples; i++)
        {
            if (i == 0)
            {
                foreach (var list in new[] { push, scanToToken, scanSteps, approveSteps, eventSteps, redeemSteps }) list.Clear();
                cpuBefore = server.CpuTime();
            }
            var request = await _client.StartAsync();
            await using var stream = await EventReader.OpenAsync(_client.Http, request.DeviceCode);
            await stream.WaitForAsync("pending");
            var scannedAt = Stopwatch.StartNew();
            var ticket = await _client.ScanAsync(phoneToken, request.UserCode);
            var scanned = scannedAt.Elapsed;
            // The screen has shown the scan before the user confirms.
            await stream.WaitForAsync("scanned");
            var approvedAt = Stopwatch.StartNew();
            var approvedAnswer = TimeSpan.Zero;
            var approval = Task.Run(async () =>
            {
                await _client.ApproveAsync(phoneToken, ticket);
                approvedAnswer = approvedAt.Elapsed;
            });
            await stream.WaitForAsync("approved");
            var eventAt = approvedAt.Elapsed;
            var (status, _) = await _client.PollAsync(request.DeviceCode);
            var elapsed = approvedAt.Elapsed.TotalMilliseconds;
            await approval;
            if (status != HttpStatusCode.OK) throw new InvalidOperationException("redeem after approved failed");
            push.Add(elapsed);
            scanToToken.Add(scanned.TotalMilliseconds + elapsed);
            scanSteps.Add(scanned.TotalMilliseconds);
            approveSteps.Add(approvedAnswer.TotalMilliseconds);
            eventSteps.Add(eventAt.TotalMilliseconds);
            redeemSteps.Add(elapsed - eventAt.TotalMilliseconds);
        }
        // Server CPU per login (start, stream, scan, approve, redeem): latency far above it is waiting, not work.
        var cpuPerLogin = (server.CpuTime() - cpuBefore).TotalMilliseconds / samples;
        var steps = $"server CPU {Stats.Format(cpuPerLogin)} ms per login; p50 of the steps: scan {Stats.Format(Stats.Median(scanSteps))} ms, approve answered {Stats.Format(Stats.Median(approveSteps))} ms, "
            + $"approved event {Stats.Format(Stats.Median(eventSteps))} ms after the approval was sent, redeem {Stats.Format(Stats.Median(redeemSteps))} ms";

        // Polling at the standard 5 s interval, each screen at its own phase, all at once so this takes one interval.
        var polling = new List<double>();
        await Task.WhenAll(Enumerable.Range(0, pollingScreens).Select(async i =>
        {
            var request = await _client.StartAsync();
            var phase = TimeSpan.FromMilliseconds(Random.Shared.Next(0, 5000));
            var approvedAt = Stopwatch.StartNew();
            var approval = _client.ScanAndApproveAsync(phoneToken, request.UserCode);
            await Task.Delay(phase);
            while (true)
            {
                var (status, _) = await _client.PollAsync(request.DeviceCode);
                if (status == HttpStatusCode.OK) break;
                await Task.Delay(TimeSpan.FromSeconds(5));
            }
            await approval;
            lock (polling) polling.Add(approvedAt.Elapsed.TotalMilliseconds);
        }));

        return
        [
            new("approve → token via push stream, p50", Stats.Percentile(push, 50), "ms", $"{samples} logins, one at a time, after {warmup} unrecorded"),
            new("approve → token via push stream, p99", Stats.Percentile(push, 99), "ms", steps),
            new("scan → token via push stream (scan and approval back to back), p50", Stats.Percentile(scanToToken, 50), "ms", $"scan answered in {Stats.Format(Stats.Percentile(scanSteps, 50))} ms (p50), {Stats.Format(Stats.Percentile(scanSteps, 99))} ms (p99)"),
            new("scan → token via push stream (scan and approval back to back), p99", Stats.Percentile(scanToToken, 99), "ms"),
            new("approve → token via polling (5 s), p50", Stats.Percentile(polling, 50), "ms", $"{pollingScreens} screens at random phases"),
            new("approve → token via polling (5 s), p99", Stats.Percentile(polling, 99), "ms"),
        ];
    }

    /// <summary>Many waiting screens holding the push stream: memory, and how fast an event still reaches one.</summary>
    public async Task<List<Measure>> ManyWaitingScreensAsync(int screens, int sampled)
    {
        var rssBefore = server.RssBytes();
        var requests = new Client.Started[screens];
        await Parallel.ForEachAsync(Enumerable.Range(0, screens), new ParallelOptions { MaxDegreeOfParallelism = 32 },
            async (i, _) => requests[i] = await _client.StartAsync());

        var streams = new EventReader[screens];
        await Parallel.ForEachAsync(Enumerable.Range(0, screens), new ParallelOptions { MaxDegreeOfParallelism = 64 }, async (i, _) =>
        {
            streams[i] = await EventReader.OpenAsync(_client.Http, requests[i].DeviceCode);
            await streams[i].WaitForAsync("pending");
        });
        GC.Collect();
        var rssHolding = server.RssBytes();

        var latencies = new List<double>();
        foreach (var i in Enumerable.Range(0, screens).OrderBy(_ => Random.Shared.Next()).Take(sampled))
        {
            var approvedAt = Stopwatch.StartNew();
            var approval = _client.ScanAndApproveAsync(phoneToken, requests[i].UserCode);
            await streams[i].WaitForAsync("approved");
            latencies.Add(approvedAt.Elapsed.TotalMilliseconds);
            await approval;
        }
        foreach (var stream in streams) await stream.DisposeAsync();

        return
        [
            new($"server RSS with {screens:N0} waiting screens on the push stream", rssHolding / 1048576.0, "MB", $"{rssBefore / 1048576.0:F0} MB before"),
            new($"approve → event p99 with {screens:N0} streams open", Stats.Percentile(latencies, 99), "ms", $"{sampled} sampled screens"),
        ];
    }

    /// <summary>Pending-poll latency with few and with many live login requests on the server.</summary>
    public async Task<List<Measure>> ManyLiveRequestsAsync(int few, int many, TimeSpan each)
    {
        async Task<double> PollP50Async()
        {
            var code = (await _client.StartAsync()).DeviceCode;
            var samples = new List<double>();
            var stop = Stopwatch.StartNew();
            while (stop.Elapsed < each)
            {
                var started = Stopwatch.StartNew();
                await _client.PollAsync(code);
                samples.Add(started.Elapsed.TotalMilliseconds);
            }
            return Stats.Percentile(samples, 50);
        }

        await CreateAsync(few);
        var fewLatency = await PollP50Async();
        await CreateAsync(many - few);
        var manyLatency = await PollP50Async();
        return
        [
            new($"pending poll p50 with {few:N0} live requests", fewLatency, "ms", "one client, sequential"),
            new($"pending poll p50 with {many:N0} live requests", manyLatency, "ms", $"ratio {manyLatency / fewLatency:F2}"),
        ];

        Task CreateAsync(int count) => Parallel.ForEachAsync(Enumerable.Range(0, count), new ParallelOptions { MaxDegreeOfParallelism = 32 },
            async (_, _) => await _client.StartAsync());
    }
}
