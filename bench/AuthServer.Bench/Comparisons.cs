using System.Net;
using System.Text;

namespace AuthServer.Bench;

/// <summary>
/// AuthServer against its baselines, measured in the same run: the trivial endpoint in its own process, the separate
/// trivial app, and the stock OpenIddict server. The machine's speed wanders by itself, so the servers take turns in
/// short alternating slices, and each AuthServer figure is a ratio to the baseline measured beside it, next to the
/// server CPU time per unit of work (which does not depend on the machine's speed at the moment).
/// </summary>
public sealed class Comparisons(DeviceFlowServer authServer, DeviceFlowServer? stock, ServerProcess? trivial)
{
    /// <summary>Phases that did no successful work: the run fails on any (the smoke run in ./test.sh relies on it).</summary>
    public List<string> Problems { get; } = [];

    /// <summary>
    /// Pending polls with wrk (<paramref name="codes"/> live device codes in rotation) on AuthServer and on the stock
    /// server, against AuthServer's in-process trivial endpoint and the separate trivial app; the four take turns,
    /// <paramref name="each"/> apiece, <paramref name="pairs"/> times.
    /// </summary>
    public async Task<List<Measure>> PendingPollAsync(int pairs, TimeSpan each, int connections, int codes)
    {
        // With several nodes, one wrk per node at once, the connections split between them, as a load balancer
        // would spread them; requests and CPU are summed over the nodes.
        var targets = new List<(string Name, IReadOnlyList<ServerProcess> Nodes, string Path, string? Lua, Func<TimeSpan>? DatabaseCpu)>
        {
            ("in-process trivial endpoint", authServer.Nodes, "/health/live", null, null),
            ("AuthServer pending poll", authServer.Nodes, "/connect/token", await PollScriptAsync(authServer, codes), authServer.DatabaseCpuTime),
        };
        if (trivial is not null) targets.Add(("separate trivial app", [trivial], "/", null, null));
        if (stock is not null) targets.Add(("stock OpenIddict pending poll", stock.Nodes, "/connect/token", await PollScriptAsync(stock, codes), null));

        var slices = targets.ToDictionary(t => t.Name, _ => new List<(Wrk.Result Result, TimeSpan Cpu, TimeSpan DatabaseCpu)>());
        for (var pair = 0; pair < pairs; pair++)
        {
            foreach (var target in targets)
            {
                TimeSpan Cpu() => target.Nodes.Aggregate(TimeSpan.Zero, (sum, node) => sum + node.CpuTime());
                var cpuBefore = Cpu();
                var databaseBefore = target.DatabaseCpu?.Invoke() ?? TimeSpan.Zero;
                var results = await Task.WhenAll(target.Nodes.Select(node =>
                    Wrk.RunAsync(new Uri(node.BaseAddress, target.Path), each, Math.Max(1, connections / target.Nodes.Count), target.Lua)));
                slices[target.Name].Add((Wrk.Result.Sum(results), Cpu() - cpuBefore, (target.DatabaseCpu?.Invoke() ?? TimeSpan.Zero) - databaseBefore));
            }
        }

        foreach (var (name, results) in slices)
            if (results.Sum(r => r.Result.Requests) == 0) Problems.Add($"poll: wrk got no answer from the {name}");

        var measures = new List<Measure>();
        void Ratio(string name, string over, string under)
        {
            if (!slices.ContainsKey(over) || !slices.ContainsKey(under)) return;
            var ratios = slices[over].Zip(slices[under], (o, u) => o.Result.RequestsPerSecond / u.Result.RequestsPerSecond).ToList();
            measures.Add(new(name, Stats.Median(ratios), "ratio", $"median of {Stats.Count(pairs, "pair")} of {each.TotalSeconds:F0} s slices; min {Stats.Format(ratios.Min())}, max {Stats.Format(ratios.Max())}"));
        }
        Ratio("AuthServer pending poll ÷ in-process trivial endpoint", "AuthServer pending poll", "in-process trivial endpoint");
        Ratio("AuthServer pending poll ÷ separate trivial app", "AuthServer pending poll", "separate trivial app");
        Ratio("stock OpenIddict pending poll ÷ separate trivial app", "stock OpenIddict pending poll", "separate trivial app");
        Ratio("AuthServer ÷ stock OpenIddict, pending polls per second", "AuthServer pending poll", "stock OpenIddict pending poll");
        foreach (var (name, results) in slices)
        {
            var rates = results.Select(r => r.Result.RequestsPerSecond).ToList();
            measures.Add(new(name, Stats.Median(rates), "req/s", $"median of {Stats.Count(pairs, "slice")}; min {Stats.Format(rates.Min())}, max {Stats.Format(rates.Max())}"));
        }
        foreach (var (name, results) in slices.Where(s => s.Key.EndsWith("pending poll", StringComparison.Ordinal)))
            measures.Add(new($"{name} p99 latency", Stats.Median(results.Select(r => r.Result.P99Ms).ToList()), "ms", $"{connections} connections; median of the slices' p99"));
        foreach (var (name, results) in slices)
        {
            var requests = results.Sum(r => r.Result.Requests);
            var cpu = results.Aggregate(TimeSpan.Zero, (sum, r) => sum + r.Cpu);
            measures.Add(new($"server CPU per request, {name}", requests == 0 ? double.NaN : cpu.TotalMilliseconds / requests, "ms",
                $"{requests:N0} requests, {cpu.TotalSeconds:F1} s of CPU"));
        }
        if (authServer.DatabaseCpuTime is not null)
        {
            var polls = slices["AuthServer pending poll"];
            var requests = polls.Sum(r => r.Result.Requests);
            var cpu = polls.Aggregate(TimeSpan.Zero, (sum, r) => sum + r.DatabaseCpu);
            measures.Add(new("database CPU per request, AuthServer pending poll", requests == 0 ? double.NaN : cpu.TotalMilliseconds / requests, "ms",
                $"the PostgreSQL server's processes; {cpu.TotalSeconds:F1} s of CPU"));
        }
        return measures;
    }

    /// <summary>Whole logins: device authorization → approval → redemption (the screen polls once, after approval).</summary>
    public Task<List<Measure>> FullLoginsAsync(int workers, TimeSpan duration, TimeSpan warmup) =>
        CompareAsync("full logins", "logins/s", "login", workers, duration, warmup,
            "a login is 4 requests on AuthServer (start, phone scan, phone approve, redeem) and 3 on stock OpenIddict (start, approve, redeem)",
            server => Task.FromResult<Func<int, Task>>(_ => server.LogInAsync()));

    /// <summary>Refresh grants, each worker rotating its own refresh-token chain (RFC 6749 §6).</summary>
    public Task<List<Measure>> RefreshGrantsAsync(int workers, TimeSpan duration, TimeSpan warmup) =>
        CompareAsync("refresh grants", "grants/s", "refresh grant", workers, duration, warmup,
            "each worker rotates its own refresh-token chain",
            async server =>
            {
                var chains = await Task.WhenAll(Enumerable.Range(0, workers).Select(_ => server.SignInAsync()));
                return async worker => chains[worker] = await server.RefreshAsync(chains[worker]);
            });

    /// <summary>How long one server's turn lasts before the other's; the measured time is split into slices of about this.</summary>
    private static readonly TimeSpan SliceLength = TimeSpan.FromSeconds(3);

    /// <summary>
    /// The same closed-loop load on AuthServer and on the stock server: each is warmed up with it, unrecorded (JIT
    /// tiering is not what is measured), then the two take turns for <paramref name="duration"/> each, in slices.
    /// </summary>
    private async Task<List<Measure>> CompareAsync(string what, string rateUnit, string unit, int workers, TimeSpan duration, TimeSpan warmup,
        string about, Func<DeviceFlowServer, Task<Func<int, Task>>> prepare)
    {
        List<DeviceFlowServer> servers = stock is null ? [authServer] : [authServer, stock];
        var units = new Dictionary<DeviceFlowServer, Func<int, Task>>();
        foreach (var server in servers) units[server] = await prepare(server);
        if (warmup > TimeSpan.Zero)
            foreach (var server in servers) await ClosedLoop.RunAsync(server.CpuTime, server.DatabaseCpuTime, workers, warmup, units[server]);

        var count = Math.Max(1, (int)Math.Round(duration / SliceLength));
        var window = duration / count;
        var slices = servers.ToDictionary(s => s, _ => new List<ClosedLoop.Slice>());
        for (var slice = 0; slice < count; slice++)
            foreach (var server in servers) slices[server].Add(await ClosedLoop.RunAsync(server.CpuTime, server.DatabaseCpuTime, workers, window, units[server]));

        var measures = new List<Measure>();
        var setting = $"{workers} workers; {Stats.Count(count, "slice")} of {window.TotalSeconds:F1} s each, in turns, after {warmup.TotalSeconds:F0} s of warm-up";
        foreach (var server in servers)
        {
            var done = slices[server].Sum(s => s.Units);
            if (done == 0) Problems.Add($"{what}: no {unit} completed on {server.Name}");
            var seconds = slices[server].Sum(s => s.Window.TotalSeconds);
            var rates = slices[server].Select(s => s.PerSecond).ToList();
            measures.Add(new($"{what}, {server.Name}", done / seconds, rateUnit, $"{setting}; slices min {Stats.Format(rates.Min())}, max {Stats.Format(rates.Max())}"));
        }
        if (stock is not null)
        {
            var ratios = slices[authServer].Zip(slices[stock], (a, s) => a.PerSecond / s.PerSecond).ToList();
            measures.Add(new($"AuthServer ÷ stock OpenIddict, {what} per second", Stats.Median(ratios), "ratio",
                $"median of {Stats.Count(count, "pair")} of slices; min {Stats.Format(ratios.Min())}, max {Stats.Format(ratios.Max())}"));
        }
        foreach (var server in servers)
        {
            var done = slices[server].Sum(s => s.Units);
            var cpu = slices[server].Aggregate(TimeSpan.Zero, (sum, s) => sum + s.ServerCpu);
            measures.Add(new($"server CPU per {unit}, {server.Name}", done == 0 ? double.NaN : cpu.TotalMilliseconds / done, "ms",
                $"user + system time of the server process in the measured windows; {about}"));
        }
        if (authServer.DatabaseCpuTime is not null)
        {
            var done = slices[authServer].Sum(s => s.Units);
            var cpu = slices[authServer].Aggregate(TimeSpan.Zero, (sum, s) => sum + s.DatabaseCpu);
            measures.Add(new($"database CPU per {unit}, {authServer.Name}", done == 0 ? double.NaN : cpu.TotalMilliseconds / done, "ms",
                "user + system time of the PostgreSQL server's processes in the measured windows"));
        }
        if (stock is not null)
        {
            static double CpuPerUnit(ClosedLoop.Slice s) => s.ServerCpu.TotalMilliseconds / s.Units;
            var ratios = slices[stock].Zip(slices[authServer], (s, a) => CpuPerUnit(s) / CpuPerUnit(a)).ToList();
            measures.Add(new($"stock OpenIddict ÷ AuthServer, server CPU per {unit}", Stats.Median(ratios), "ratio",
                $"median of {Stats.Count(count, "pair")} of slices; min {Stats.Format(ratios.Min())}, max {Stats.Format(ratios.Max())}"));
        }
        foreach (var server in servers)
        {
            var latencies = slices[server].SelectMany(s => s.LatenciesMs).ToList();
            measures.Add(new($"{unit} p50 latency, {server.Name}", Stats.Percentile(latencies, 50), "ms"));
            measures.Add(new($"{unit} p99 latency, {server.Name}", Stats.Percentile(latencies, 99), "ms"));
        }
        return measures;
    }

    /// <summary>
    /// The wrk script that polls <paramref name="count"/> live device codes of <paramref name="server"/> in rotation, after
    /// checking that a poll there is answered authorization_pending (RFC 8628 §3.5), so that the rate measured is that
    /// of pending polls.
    /// </summary>
    private static async Task<string> PollScriptAsync(DeviceFlowServer server, int count)
    {
        var codes = await Task.WhenAll(Enumerable.Range(0, count).Select(async _ => (await server.StartAsync()).DeviceCode));
        var (status, json) = await server.Client.PollAsync(codes[0]);
        if (status != HttpStatusCode.BadRequest || json.GetProperty("error").GetString() != "authorization_pending")
            throw new InvalidOperationException($"{server.Name}: a pending poll answered {(int)status}: {json}");

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
        return lua.ToString();
    }
}
