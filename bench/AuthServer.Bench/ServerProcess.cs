using System.Diagnostics;
using System.Net.Sockets;

namespace AuthServer.Bench;

/// <summary>
/// What to start: one of the servers the benchmark drives, its Release build, the setting that names its database (a
/// fresh SQLite file in its own folder unless <see cref="ConnectionString"/> names another), the settings it runs
/// with, the path that answers once it is ready, and whether it runs in its database's folder.
/// </summary>
/// <remarks>
/// AuthServer runs in its database's folder, as it always has here: it watches no configuration file. The baselines keep
/// the host's default configuration watcher on their content root, as deployed, so they run in their build folder: a
/// watcher on the database's folder would wake on every SQLite commit, which no deployment of them does.
/// </remarks>
public sealed record ServerApp(string Name, string Dll, string? DatabaseSetting, IReadOnlyDictionary<string, string> Settings,
    string ReadyPath, bool RunsInDatabaseFolder = false, string? ConnectionString = null)
{
    /// <summary>
    /// AuthServer in Development (so <c>demo-tv</c> and the demo user exist). The rate limits would (rightly) stop a
    /// benchmark that starts, scans and polls thousands of logins a minute from one address, one account and one client.
    /// </summary>
    public static ServerApp AuthServer(string dll, IEnumerable<KeyValuePair<string, string>>? environment = null) => new("AuthServer", dll,
        "ConnectionStrings__AuthServer", With(environment, RaisedRateLimits), "/health/live", RunsInDatabaseFolder: true);

    /// <summary>
    /// One of several AuthServer nodes sharing one PostgreSQL database, as behind a load balancer
    /// (docs/operations.md, "Several nodes"): every node has the same public issuer, so a token one node issued is
    /// accepted by the others.
    /// </summary>
    public static ServerApp AuthServerNode(string dll, int node, string postgres, Uri issuer, IEnumerable<KeyValuePair<string, string>>? environment = null) =>
        new($"AuthServer node {node}", dll, "ConnectionStrings__AuthServer",
            With(environment, new Dictionary<string, string>(RaisedRateLimits) { ["Database__Provider"] = "PostgreSql", ["AuthServer__Issuer"] = issuer.GetLeftPart(UriPartial.Authority) }),
            "/health/ready", RunsInDatabaseFolder: true, ConnectionString: postgres);

    /// <summary>The harness's own settings over <c>--server-env</c>'s: a benchmark's settings are not the run's to change.</summary>
    private static Dictionary<string, string> With(IEnumerable<KeyValuePair<string, string>>? environment, IReadOnlyDictionary<string, string> settings)
    {
        var all = new Dictionary<string, string>(environment ?? []);
        foreach (var (key, value) in settings) all[key] = value;
        return all;
    }

    private static readonly Dictionary<string, string> RaisedRateLimits = new()
    {
        ["RateLimits__UserCodeLookupsPerAccount__PermitLimit"] = "100000000",
        ["RateLimits__UserCodeLookupsPerNetwork__PermitLimit"] = "100000000",
        ["RateLimits__UnknownUserCodes__PermitLimit"] = "100000000",
        ["RateLimits__DeviceAuthorizationsPerClient__PermitLimit"] = "100000000",
        ["RateLimits__DeviceAuthorizationsPerNetwork__PermitLimit"] = "100000000",
        ["RateLimits__TokenRequestsPerClient__PermitLimit"] = "100000000",
    };

    /// <summary>The stock OpenIddict device-flow server in <c>bench/StockOpenIddict</c>: ready once its discovery document answers.</summary>
    public static ServerApp StockOpenIddict(string dll) => new("stock OpenIddict", dll, "ConnectionStrings__StockOpenIddict",
        new Dictionary<string, string>(), "/.well-known/openid-configuration");

    /// <summary>The trivial Kestrel app in <c>bench/Trivial</c>: every path answers.</summary>
    public static ServerApp Trivial(string dll) => new("trivial app", dll, null, new Dictionary<string, string>(), "/");
}

/// <summary>A server under test: its Release build, its own SQLite file, loopback only, killed on dispose.</summary>
public sealed class ServerProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly string _directory;

    public string Name { get; }
    public Uri BaseAddress { get; }
    public int ProcessId => _process.Id;

    private ServerProcess(string name, Process process, string directory, Uri baseAddress)
    {
        Name = name;
        _process = process;
        _directory = directory;
        BaseAddress = baseAddress;
    }

    /// <summary>Starts <paramref name="app"/> on <paramref name="port"/> (a free one when null) and waits until it is ready.</summary>
    public static async Task<ServerProcess> StartAsync(ServerApp app, TimeSpan timeout, int? port = null)
    {
        var directory = Directory.CreateTempSubdirectory("authserver-bench-").FullName;
        port ??= FreePort();
        var start = new ProcessStartInfo("dotnet", [app.Dll])
        {
            WorkingDirectory = app.RunsInDatabaseFolder ? directory : Path.GetDirectoryName(Path.GetFullPath(app.Dll))!,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Development";
        start.Environment["ASPNETCORE_URLS"] = $"http://127.0.0.1:{port}";
        if (app.DatabaseSetting is not null)
            start.Environment[app.DatabaseSetting] = app.ConnectionString ?? $"Data Source={Path.Combine(directory, "bench.db")}";
        start.Environment["Logging__LogLevel__Default"] = "Warning";
        start.Environment["Logging__LogLevel__Microsoft.AspNetCore"] = "Warning";
        foreach (var (key, value) in app.Settings) start.Environment[key] = value;

        var process = Process.Start(start) ?? throw new InvalidOperationException($"{app.Name} did not start");
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) Console.Error.WriteLine($"{app.Name}: {e.Data}"); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        var server = new ServerProcess(app.Name, process, directory, new Uri($"http://127.0.0.1:{port}"));
        using var http = new HttpClient { BaseAddress = server.BaseAddress, Timeout = TimeSpan.FromSeconds(2) };
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (process.HasExited) throw new InvalidOperationException($"{app.Name} exited with {process.ExitCode}");
            try
            {
                if ((await http.GetAsync(app.ReadyPath)).IsSuccessStatusCode) return server;
            }
            catch (HttpRequestException) { }
            catch (TaskCanceledException) { }
            await Task.Delay(200);
        }
        await server.DisposeAsync();
        throw new TimeoutException($"{app.Name} did not become ready");
    }

    /// <summary>Starts the given servers side by side (a null one is not started); if one fails, stops the others.</summary>
    public static async Task<ServerProcess?[]> StartAllAsync(IReadOnlyList<ServerApp?> apps, TimeSpan timeout)
    {
        var starting = apps.Select(async app => app is null ? null : await StartAsync(app, timeout)).ToArray();
        try
        {
            return await Task.WhenAll(starting);
        }
        catch
        {
            foreach (var started in starting.Where(t => t.IsCompletedSuccessfully))
                if (started.Result is { } server) await server.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// CPU time the server process has used (user + system), from /proc: divided by the work done in a phase it gives
    /// a cost per flow that does not depend on how fast the machine happens to run at the moment.
    /// </summary>
    public TimeSpan CpuTime()
    {
        // /proc/<pid>/stat: fields 14 and 15 (utime, stime) in clock ticks, counted after the ")" that ends the name.
        var stat = File.ReadAllText($"/proc/{_process.Id}/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        var ticks = long.Parse(fields[11]) + long.Parse(fields[12]);
        return TimeSpan.FromSeconds(ticks / (double)ClockTicksPerSecond);
    }

    /// <summary>
    /// CPU time (user + system) of the PostgreSQL server on this machine: the postmaster <paramref name="postmaster"/>
    /// and its children (the backends and background workers), or, without one, every process named <c>postgres</c>.
    /// With <c>--postgres</c> on a local cluster this is the database's share of each unit of work, which SQLite, running
    /// inside the server process, has in the server's own figure. A process that ends between two readings takes its
    /// time with it, so a window's figure can only under-state the database's work; the nodes' pools keep their
    /// backends for the whole run.
    /// </summary>
    public static TimeSpan LocalPostgresCpuTime(int? postmaster)
    {
        long ticks = 0;
        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(directory), out var pid)) continue;
            try
            {
                var stat = File.ReadAllText(Path.Combine(directory, "stat"));
                var open = stat.IndexOf('(');
                var close = stat.LastIndexOf(')');
                if (stat[(open + 1)..close] != "postgres") continue;
                // After the name: state, ppid, …, utime (14th field of the line), stime (15th).
                var fields = stat[(close + 2)..].Split(' ');
                if (postmaster is { } root && pid != root && int.Parse(fields[1]) != root) continue;
                ticks += long.Parse(fields[11]) + long.Parse(fields[12]);
            }
            catch (IOException) { }   // the process ended while being read
        }
        return TimeSpan.FromSeconds(ticks / (double)ClockTicksPerSecond);
    }

    /// <summary>USER_HZ, which Linux fixes at 100 on every architecture we run on.</summary>
    private const int ClockTicksPerSecond = 100;

    /// <summary>Resident set size of the server process, from /proc.</summary>
    public long RssBytes()
    {
        foreach (var line in File.ReadLines($"/proc/{_process.Id}/status"))
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) * 1024;
        return 0;
    }

    /// <summary>The server's memory map with each mapping's resident size (/proc/&lt;pid&gt;/smaps), to see what the RSS is made of.</summary>
    public string MemoryMap() => File.ReadAllText($"/proc/{_process.Id}/smaps");

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
        try { Directory.Delete(_directory, recursive: true); } catch (IOException) { }
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }
}
