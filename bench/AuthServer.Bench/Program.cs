using System.Diagnostics;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;
using AuthServer.Bench;

// Benchmarks of the hot paths, with their baselines measured in the same run (see docs/benchmarks.md). Loopback only;
// every phase is bounded and the run stops by itself. Usage:
//   dotnet run -c Release --project bench/AuthServer.Bench -- [--runs N] [--only poll,flows,...] [--seconds N]
//     [--warmup N] [--smoke] [--out <file.json>] [--server <AuthServer.dll>] [--stock <StockOpenIddict.dll>] [--trivial <Trivial.dll>]
//     [--server-env KEY=VALUE]... [--idle-smaps <file>] [--postgres <Npgsql connection string> [--nodes N] [--postgres-pid <postmaster pid>]]
var smoke = args.Contains("--smoke");
// --postgres runs AuthServer on that PostgreSQL server instead of SQLite, in a database of its own for each run
// (created by the server's migrations, dropped afterwards); --nodes N runs N AuthServer nodes on it, sharing it as
// behind a load balancer. Stock OpenIddict, the SQLite baseline, is then not started: its comparison is the SQLite run's.
var postgres = Argument("--postgres");
// --postgres-pid names the local PostgreSQL server's postmaster, whose CPU time (with its children's) is the database's
// share of the work; without it, every process named postgres on this machine counts.
var postmaster = int.TryParse(Argument("--postgres-pid"), out var postmasterPid) ? postmasterPid : (int?)null;
var nodeCount = postgres is null ? 1 : Math.Max(1, int.TryParse(Argument("--nodes"), out var n) ? n : 1);
if (postgres is null && args.Contains("--nodes"))
{
    Console.Error.WriteLine("--nodes needs --postgres: several nodes share one PostgreSQL database, never one SQLite file");
    return 2;
}
var root = RepositoryRoot();
var serverDll = Argument("--server") ?? ReleaseBuild("src", "AuthServer");
var stockDll = Argument("--stock") ?? ReleaseBuild("bench", "StockOpenIddict");
var trivialDll = Argument("--trivial") ?? ReleaseBuild("bench", "Trivial");
var output = Argument("--out");
// --idle-smaps writes AuthServer's memory map at the idle measurement, each mapping with its resident size.
var idleSmaps = Argument("--idle-smaps");
// --server-env DOTNET_TieredPGO=0 (repeatable) starts AuthServer, and only AuthServer, with that environment variable:
// runtime settings are compared on the server without changing the harness's own process or the baselines.
var serverEnvironment = args.Zip(args.Skip(1)).Where(p => p.First == "--server-env" && p.Second.Contains('='))
    .Select(p => KeyValuePair.Create(p.Second[..p.Second.IndexOf('=')], p.Second[(p.Second.IndexOf('=') + 1)..])).ToList();
// --runs 3 runs every phase three times, each time on freshly started servers, and prints the median of each figure.
var runs = Math.Max(1, int.TryParse(Argument("--runs"), out var runCount) ? runCount : 1);
// --only flows,refresh runs just those phases (names: poll, flows, refresh, push, screens, live); a name of none of
// them (--only idle) runs only the idle measurement every run begins with.
var only = Argument("--only")?.Split(',').ToHashSet() ?? (postgres is null ? null : ["poll", "flows", "refresh"]);
bool Runs(string phase) => only is null || only.Contains(phase);
// --seconds N is the measured time of each server in the flows and refresh phases (default 10 s), taken in turns.
var phaseSeconds = int.TryParse(Argument("--seconds"), out var seconds) ? seconds : 10;
// --warmup N runs the flows and refresh load unrecorded first (default 30 s), so JIT tiering is not what is measured:
// OpenIddict's handlers are thousands of methods, and on two loaded cores the tiered JIT took 20-40 s to recompile the
// hot ones (docs/benchmarks.md).
var warmup = TimeSpan.FromSeconds(smoke ? 0 : int.TryParse(Argument("--warmup"), out var warm) ? warm : 30);
// --workers N is the closed-loop concurrency of the flows and refresh phases and wrk's connections (default 32): at 2
// the figures show what a unit of work costs without 32 of them contending for two cores.
var workerCount = int.TryParse(Argument("--workers"), out var w) && w > 0 ? w : 32;

var pollWithWrk = Runs("poll") && Wrk.Available();
if (Runs("poll") && !pollWithWrk) Console.Error.WriteLine("wrk is not installed: skipping the request-rate comparison (apt-get install wrk)");
var needsStock = postgres is null && (pollWithWrk || Runs("flows") || Runs("refresh"));
var needed = new List<string> { serverDll };
if (needsStock) needed.Add(stockDll);
if (pollWithWrk) needed.Add(trivialDll);
if (needed.FirstOrDefault(dll => !File.Exists(dll)) is { } missing)
{
    Console.Error.WriteLine($"Build the servers first: dotnet build AuthServer.sln -c Release (looked for {Path.GetFileName(missing)})");
    return 2;
}

var allRuns = new List<List<Measure>>();
var problems = new List<string>();
for (var run = 1; run <= runs; run++)
{
    var results = new List<Measure>();
    var clock = Stopwatch.StartNew();
    var database = postgres is null ? null : await BenchDatabase.CreateAsync(postgres, run);
    var nodes = new List<ServerProcess>();
    var started = new ServerProcess?[] { null, null };
    try
    {
        if (database is null)
        {
            var all = await ServerProcess.StartAllAsync(
                [ServerApp.AuthServer(serverDll, serverEnvironment), needsStock ? ServerApp.StockOpenIddict(stockDll) : null, pollWithWrk ? ServerApp.Trivial(trivialDll) : null],
                TimeSpan.FromSeconds(60));
            nodes.Add(all[0]!);
            started = [all[1], all[2]];
        }
        else
        {
            // The first node applies the migrations and seeds the demo data alone; the others start once it is ready.
            var ports = Enumerable.Range(0, nodeCount).Select(_ => ServerProcess.FreePort()).ToArray();
            var issuer = new Uri($"http://127.0.0.1:{ports[0]}");
            nodes.Add(await ServerProcess.StartAsync(ServerApp.AuthServerNode(serverDll, 0, database.ConnectionString, issuer, serverEnvironment), TimeSpan.FromSeconds(60), ports[0]));
            nodes.AddRange(await Task.WhenAll(Enumerable.Range(1, nodeCount - 1).Select(i =>
                ServerProcess.StartAsync(ServerApp.AuthServerNode(serverDll, i, database.ConnectionString, issuer, serverEnvironment), TimeSpan.FromSeconds(60), ports[i]))));
            if (pollWithWrk) started[1] = await ServerProcess.StartAsync(ServerApp.Trivial(trivialDll), TimeSpan.FromSeconds(60));
        }
        var server = nodes[0];
        var stockServer = started[0];
        var trivialApp = started[1];
        var phone = await Client.PhoneTokenAsync(server.BaseAddress, "demo@example.com", "Demo-Password-1");
        var comparisons = new Comparisons(DeviceFlowServer.AuthServer(nodes, phone, database is null ? null : () => ServerProcess.LocalPostgresCpuTime(postmaster)),
            stockServer is null ? null : DeviceFlowServer.StockOpenIddict(stockServer), trivialApp);
        var scenarios = new Scenarios(server, phone);
        var workers = smoke ? 4 : workerCount;
        var duration = TimeSpan.FromSeconds(smoke ? 1 : phaseSeconds);

        async Task PhaseAsync(string phase, Func<Task<List<Measure>>> measure)
        {
            var began = Stopwatch.StartNew();
            results.AddRange(await measure());
            Console.Error.WriteLine($"run {run}: {phase} took {began.Elapsed.TotalSeconds:F0} s");
        }
        Console.Error.WriteLine($"run {run}: servers up and the phone signed in after {clock.Elapsed.TotalSeconds:F0} s");
        // Idle: started, migrated, keys loaded, the phone signed in, and nothing else asked of it yet.
        await Task.Delay(TimeSpan.FromSeconds(smoke ? 0 : 2));
        results.Add(new Measure("idle server RSS, AuthServer", server.RssBytes() / 1048576.0, "MB",
            $"after start-up and the phone's sign-in, before any load{(nodes.Count > 1 ? "; the first node" : "")}"));
        if (idleSmaps is not null) await File.WriteAllTextAsync(runs == 1 ? idleSmaps : $"{idleSmaps}.{run}", server.MemoryMap());
        if (pollWithWrk) await PhaseAsync("poll", () => comparisons.PendingPollAsync(pairs: smoke ? 1 : 7, each: TimeSpan.FromSeconds(smoke ? 1 : 3), connections: workers, codes: smoke ? 8 : 64));
        if (Runs("flows")) await PhaseAsync("flows", () => comparisons.FullLoginsAsync(workers, duration, warmup));
        if (Runs("refresh")) await PhaseAsync("refresh", () => comparisons.RefreshGrantsAsync(workers, duration, warmup));
        if (Runs("push")) await PhaseAsync("push", () => scenarios.ApproveToTokenAsync(samples: smoke ? 3 : 200, warmup: warmup == TimeSpan.Zero ? 0 : 200, pollingScreens: smoke ? 3 : 50));
        if (Runs("screens")) await PhaseAsync("screens", () => scenarios.ManyWaitingScreensAsync(screens: smoke ? 50 : 10_000, sampled: smoke ? 5 : 100));
        if (Runs("live")) await PhaseAsync("live", () => scenarios.ManyLiveRequestsAsync(few: 100, many: smoke ? 500 : 100_000, each: TimeSpan.FromSeconds(smoke ? 1 : 3)));
        problems.AddRange(comparisons.Problems.Select(p => runs == 1 ? p : $"run {run}: {p}"));
    }
    finally
    {
        foreach (var process in nodes.Concat(started)) if (process is not null) await process.DisposeAsync();
        if (database is not null) await database.DisposeAsync();
    }

    allRuns.Add(results);
    if (runs > 1) Console.WriteLine($"\n## Run {run} of {runs}\n");
    if (run == 1 && postgres is not null) Console.WriteLine($"AuthServer on PostgreSQL, {Stats.Count(nodeCount, "node")}\n");
    Console.WriteLine("| measure | value | unit | note |");
    Console.WriteLine("|---|---:|---|---|");
    foreach (var r in results) Console.WriteLine($"| {r.Name} | {Stats.Format(r.Value)} | {r.Unit} | {r.Note} |");
}

// Each figure's median over the runs, with the lowest and highest; a note is kept where every run wrote the same one.
var summary = allRuns[0].Select(first =>
{
    var values = allRuns.Select(r => r.FirstOrDefault(m => m.Name == first.Name)).Where(m => m is not null).Select(m => m!).ToList();
    var numbers = values.Select(m => m.Value).Where(v => !double.IsNaN(v)).ToList();
    var note = values.All(m => m.Note == first.Note) ? first.Note : "";
    return numbers.Count == 0
        ? new { first.Name, Median = double.NaN, Min = double.NaN, Max = double.NaN, first.Unit, Note = note, Values = numbers }
        : new { first.Name, Median = Stats.Median(numbers), Min = numbers.Min(), Max = numbers.Max(), first.Unit, Note = note, Values = numbers };
}).ToList();
if (runs > 1)
{
    Console.WriteLine($"\n## Median of {runs} runs\n");
    Console.WriteLine("| measure | median | min | max | unit | note |");
    Console.WriteLine("|---|---:|---:|---:|---|---|");
    foreach (var s in summary) Console.WriteLine($"| {s.Name} | {Stats.Format(s.Median)} | {Stats.Format(s.Min)} | {Stats.Format(s.Max)} | {s.Unit} | {s.Note} |");
}

if (output is not null)
{
    await File.WriteAllTextAsync(output, JsonSerializer.Serialize(new { runs = allRuns, summary },
        new JsonSerializerOptions
        {
            WriteIndented = true,
            // An empty phase's figures are NaN; ÷ and → stay readable.
            NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
            Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        }));
}

if (problems.Count > 0)
{
    foreach (var problem in problems) Console.Error.WriteLine($"benchmark failed: {problem}");
    return 1;
}
return 0;

string? Argument(string name) => args.SkipWhile(a => a != name).Skip(1).FirstOrDefault();

string ReleaseBuild(string folder, string project) => Path.Combine(root, folder, project, "bin", "Release", "net10.0", project + ".dll");

static string RepositoryRoot()
{
    var directory = new DirectoryInfo(AppContext.BaseDirectory);
    while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "AuthServer.sln"))) directory = directory.Parent;
    return directory?.FullName ?? Directory.GetCurrentDirectory();
}
