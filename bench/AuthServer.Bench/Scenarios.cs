using System.Diagnostics;
using System.Net;

namespace AuthServer.Bench;

/// <summary>The measurements of AuthServer alone (the push stream, many screens, many live requests), each bounded in time.</summary>
public sealed class Scenarios(ServerProcess server, string phoneToken)
{
    private readonly Client _client = new(server.BaseAddress);

    /// <summary>From the phone's approval to tokens in the waiting screen's hands: push stream against polling.</summary>
    public async Task<List<Measure>> ApproveToTokenAsync(int samples)
    {
        var push = new List<double>();
        for (var i = 0; i < samples; i++)
        {
            var request = await _client.StartAsync();
            await using var stream = await EventReader.OpenAsync(_client.Http, request.DeviceCode);
            await stream.WaitForAsync("pending");
            var approvedAt = Stopwatch.StartNew();
            var approval = _client.ScanAndApproveAsync(phoneToken, request.UserCode);
            await stream.WaitForAsync("approved");
            var (status, _) = await _client.PollAsync(request.DeviceCode);
            var elapsed = approvedAt.Elapsed.TotalMilliseconds;
            await approval;
            if (status != HttpStatusCode.OK) throw new InvalidOperationException("redeem after approved failed");
            push.Add(elapsed);
        }

        // Polling at the standard 5 s interval, each screen at its own phase, all at once so this takes one interval.
        var polling = new List<double>();
        await Task.WhenAll(Enumerable.Range(0, samples).Select(async i =>
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
            new("approve → token via push stream, p50", Stats.Percentile(push, 50), "ms", $"{samples} logins, one at a time"),
            new("approve → token via push stream, p99", Stats.Percentile(push, 99), "ms"),
            new("approve → token via polling (5 s), p50", Stats.Percentile(polling, 50), "ms", $"{samples} screens at random phases"),
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
