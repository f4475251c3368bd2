using System.Text.Json;
using AuthServer.Bench;

// Benchmarks of the hot paths (see docs/benchmarks.md). Loopback only; every phase is bounded and the run stops by
// itself. Usage: dotnet run -c Release --project bench/AuthServer.Bench -- [--smoke] [--server <AuthServer.dll>] [--out <file.json>]
var smoke = args.Contains("--smoke");
var serverDll = Argument("--server") ?? Path.Combine(RepositoryRoot(), "src", "AuthServer", "bin", "Release", "net10.0", "AuthServer.dll");
var output = Argument("--out");
// --only flows,refresh runs just those phases (names: poll, flows, refresh, push, screens, live).
var only = Argument("--only")?.Split(',').ToHashSet();
bool Runs(string phase) => only is null || only.Contains(phase);
// --seconds N lengthens the flows and refresh phases (default 10 s), e.g. to see them warm up.
var phaseSeconds = int.TryParse(Argument("--seconds"), out var seconds) ? seconds : 10;
// --warmup N runs the flows and refresh load unrecorded first (default 10 s), so JIT tiering is not what is measured.
var warmup = TimeSpan.FromSeconds(smoke ? 0 : int.TryParse(Argument("--warmup"), out var warm) ? warm : 10);
if (!File.Exists(serverDll))
{
    Console.Error.WriteLine($"Build the server first: dotnet build -c Release src/AuthServer (looked for {Path.GetFileName(serverDll)})");
    return 2;
}

var results = new List<Scenarios.Measure>();
await using (var server = await ServerProcess.StartAsync(serverDll, new Dictionary<string, string>(), TimeSpan.FromSeconds(60)))
{
    var phone = await Client.PhoneTokenAsync(server.BaseAddress, "demo@example.com", "Demo-Password-1");
    var scenarios = new Scenarios(server, phone);

    if (Runs("poll") && Wrk.Available())
        results.AddRange(await scenarios.PollVersusTrivialAsync(pairs: smoke ? 1 : 7, each: TimeSpan.FromSeconds(smoke ? 1 : 3)));
    else if (Runs("poll"))
        Console.Error.WriteLine("wrk is not installed: skipping the request-rate comparison (apt-get install wrk)");

    if (Runs("flows")) results.AddRange(await scenarios.FullFlowsAsync(workers: smoke ? 4 : 32, duration: TimeSpan.FromSeconds(smoke ? 1 : phaseSeconds), warmup));
    if (Runs("refresh")) results.AddRange(await scenarios.RefreshGrantsAsync(workers: smoke ? 4 : 32, duration: TimeSpan.FromSeconds(smoke ? 1 : phaseSeconds), warmup));
    if (Runs("push")) results.AddRange(await scenarios.ApproveToTokenAsync(samples: smoke ? 3 : 50));
    if (Runs("screens")) results.AddRange(await scenarios.ManyWaitingScreensAsync(screens: smoke ? 50 : 10_000, sampled: smoke ? 5 : 100));
    if (Runs("live")) results.AddRange(await scenarios.ManyLiveRequestsAsync(few: 100, many: smoke ? 500 : 100_000, each: TimeSpan.FromSeconds(smoke ? 1 : 3)));
}

Console.WriteLine("| measure | value | unit | note |");
Console.WriteLine("|---|---:|---|---|");
foreach (var r in results) Console.WriteLine($"| {r.Name} | {r.Value:F2} | {r.Unit} | {r.Note} |");
if (output is not null)
    await File.WriteAllTextAsync(output, JsonSerializer.Serialize(results, new JsonSerializerOptions { WriteIndented = true }));
return 0;

string? Argument(string name) => args.SkipWhile(a => a != name).Skip(1).FirstOrDefault();

static string RepositoryRoot()
{
    var directory = new DirectoryInfo(AppContext.BaseDirectory);
    while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "AuthServer.sln"))) directory = directory.Parent;
    return directory?.FullName ?? Directory.GetCurrentDirectory();
}
