using System.Diagnostics;
using System.Net;
using System.Text;

namespace AuthServer.Bench;

/// <summary>The measurements of the benchmark issue, each bounded in time.</summary>
public sealed class Scenarios(ServerProcess server, string phoneToken)
{
    private readonly Client _client = new(server.BaseAddress);

    public sealed record Measure(string Name, double Value, string Unit, string Note = "");

    /// <summary>Pending polls against the trivial endpoint, in short interleaved pairs, as the machine's speed wanders.</summary>
    public async Task<List<Measure>> PollVersusTrivialAsync(int pairs, TimeSpan each)
    {
        var codes = new List<string>();
        for (var i = 0; i < 64; i++) codes.Add((await _client.StartAsync()).DeviceCode);
        var lua = new StringBuilder("local codes = {");
        lua.Append(string.Join(",", codes.Select(c => $"\"{c}\"")));
        lua.Append("""
            }
            local i = 0
            wrk.method = "POST"
            wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
            request = function()
              i = i % #codes + 1
              return wrk.format(nil, nil, nil, "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Adevice_code&client_id=demo-tv&device_code=" .. codes[i])
            end
            """);

        var ratios = new List<double>();
        var trivialRates = new List<double>();
        var pollRates = new List<double>();
        var pollP99 = new List<double>();
        for (var pair = 0; pair < pairs; pair++)
        {
            var trivial = await Wrk.RunAsync(new Uri(server.BaseAddress, "/health/live"), each, 32);
            var poll = await Wrk.RunAsync(new Uri(server.BaseAddress, "/connect/token"), each, 32, lua.ToString());
            trivialRates.Add(trivial.RequestsPerSecond);
            pollRates.Add(poll.RequestsPerSecond);
            pollP99.Add(poll.P99Ms);
            ratios.Add(poll.RequestsPerSecond / trivial.RequestsPerSecond);
        }
        return
        [
            new("pending poll / trivial endpoint (median of pairs)", Stats.Median(ratios), "ratio", $"min {ratios.Min():F2}, max {ratios.Max():F2}, {pairs} pairs of {each.TotalSeconds:F0} s"),
            new("trivial endpoint", Stats.Median(trivialRates), "req/s", $"min {trivialRates.Min():F0}, max {trivialRates.Max():F0}"),
            new("pending poll", Stats.Median(pollRates), "req/s", $"min {pollRates.Min():F0}, max {pollRates.Max():F0}"),
            new("pending poll p99 latency", Stats.Median(pollP99), "ms", "32 connections"),
        ];
    }

    /// <summary>
    /// Whole flows: the screen starts, the phone scans and approves, the screen redeems. The same load runs for
    /// <paramref name="warmup"/> first, unrecorded, so the figure is the warm server's and not the JIT's.
    /// </summary>
    public async Task<List<Measure>> FullFlowsAsync(int workers, TimeSpan duration, TimeSpan warmup)
    {
        if (warmup > TimeSpan.Zero) await RunFlowsAsync(workers, warmup);
        var cpuBefore = server.CpuTime();
        var (latencies, elapsed) = await RunFlowsAsync(workers, duration);
        var cpu = server.CpuTime() - cpuBefore;
        return
        [
            new("full device flows", latencies.Count / elapsed.TotalSeconds, "flows/s", $"{workers} concurrent flows for {duration.TotalSeconds:F0} s after {warmup.TotalSeconds:F0} s of warm-up"),
            new("full flow p50 latency", Stats.Percentile(latencies, 50), "ms"),
            new("full flow p99 latency", Stats.Percentile(latencies, 99), "ms"),
            new("server CPU per full flow", cpu.TotalMilliseconds / latencies.Count, "ms", "4 requests; user + system time of the server process"),
        ];
    }

    private async Task<(List<double> Latencies, TimeSpan Elapsed)> RunFlowsAsync(int workers, TimeSpan duration)
    {
        var latencies = new List<double>();
        var stop = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, workers).Select(async _ =>
        {
            var mine = new List<double>();
            while (stop.Elapsed < duration)
            {
                var started = Stopwatch.StartNew();
                var request = await _client.StartAsync();
                await _client.ScanAndApproveAsync(phoneToken, request.UserCode);
                var (status, _) = await _client.PollAsync(request.DeviceCode);
                if (status != HttpStatusCode.OK) throw new InvalidOperationException($"redeem answered {(int)status}");
                mine.Add(started.Elapsed.TotalMilliseconds);
            }
            lock (latencies) latencies.AddRange(mine);
        }));
        return (latencies, stop.Elapsed);
    }

    /// <summary>Refresh grants, each worker rotating its own token chain, after an unrecorded warm-up.</summary>
    public async Task<List<Measure>> RefreshGrantsAsync(int workers, TimeSpan duration, TimeSpan warmup)
    {
        var tokens = new List<string>();
        for (var i = 0; i < workers; i++) tokens.Add(await SignInAsync());
        if (warmup > TimeSpan.Zero) (_, _, tokens) = await RunRefreshesAsync(tokens, warmup);
        var cpuBefore = server.CpuTime();
        var (latencies, elapsed, _) = await RunRefreshesAsync(tokens, duration);
        var cpu = server.CpuTime() - cpuBefore;
        return
        [
            new("refresh grants", latencies.Count / elapsed.TotalSeconds, "grants/s", $"{workers} concurrent chains for {duration.TotalSeconds:F0} s after {warmup.TotalSeconds:F0} s of warm-up"),
            new("refresh p99 latency", Stats.Percentile(latencies, 99), "ms"),
            new("server CPU per refresh grant", cpu.TotalMilliseconds / latencies.Count, "ms", "user + system time of the server process"),
        ];
    }

    private async Task<(List<double> Latencies, TimeSpan Elapsed, List<string> Tokens)> RunRefreshesAsync(List<string> tokens, TimeSpan duration)
    {
        var latest = new string[tokens.Count];
        var latencies = new List<double>();
        var stop = Stopwatch.StartNew();
        await Task.WhenAll(tokens.Select(async (first, index) =>
        {
            var token = first;
            var mine = new List<double>();
            while (stop.Elapsed < duration)
            {
                var started = Stopwatch.StartNew();
                var (status, json) = await _client.RefreshAsync(token);
                if (status != HttpStatusCode.OK) throw new InvalidOperationException($"refresh answered {(int)status}: {json}");
                token = json.GetProperty("refresh_token").GetString()!;
                mine.Add(started.Elapsed.TotalMilliseconds);
            }
            latest[index] = token;
            lock (latencies) latencies.AddRange(mine);
        }));
        return (latencies, stop.Elapsed, [.. latest]);
    }

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

    private async Task<string> SignInAsync()
    {
        var request = await _client.StartAsync();
        await _client.ScanAndApproveAsync(phoneToken, request.UserCode);
        var (_, json) = await _client.PollAsync(request.DeviceCode);
        return json.GetProperty("refresh_token").GetString()!;
    }
}
