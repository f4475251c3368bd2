using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using AuthServer.Tests.Infrastructure;

namespace AuthServer.Tests.Cluster;

/// <summary>
/// A real server process: the built AuthServer.dll run with <c>dotnet</c> on a free loopback port, configured by
/// environment variables only (Development, so the demo user, the administrator and the phone client exist), on the
/// PostgreSQL database it is given. Its console output is kept for failure messages; disposing kills it.
/// </summary>
internal sealed class ServerNode : IAsyncDisposable
{
    /// <summary>A public device-flow client whose 1 s interval (less the 1 s jitter) never calls for slow_down.</summary>
    public const string FastClient = "nodetv";

    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private ServerNode(string name, int port, Process process)
    {
        Name = name;
        BaseAddress = new Uri($"http://localhost:{port}");
        _process = process;
        Http = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
    }

    public string Name { get; }
    public Uri BaseAddress { get; }

    /// <summary>A client without cookies: a waiting screen, the phone's API calls.</summary>
    public HttpClient Http { get; }

    public string Output
    {
        get { lock (_output) return _output.ToString(); }
    }

    /// <summary>A free loopback port, for a node (or PostgreSQL) to listen on.</summary>
    public static int FreePort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }

    /// <summary>A client that keeps cookies and does not follow redirects, like the in-memory tests' browser.</summary>
    public HttpClient CreateBrowser() =>
        new(new HttpClientHandler { AllowAutoRedirect = false, UseCookies = true, CookieContainer = new CookieContainer() })
        {
            BaseAddress = BaseAddress,
            Timeout = TimeSpan.FromSeconds(30),
        };

    /// <summary>Starts a node and waits (bounded) until <c>/health/ready</c> answers 200.</summary>
    public static async Task<ServerNode> StartAsync(string name, int port, string connectionString, Uri issuer,
        IReadOnlyDictionary<string, string>? settings = null)
    {
        var directory = AppContext.BaseDirectory;
        var start = new ProcessStartInfo(DotnetHost(), [Path.Combine(directory, "AuthServer.dll")])
        {
            WorkingDirectory = directory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        var environment = new Dictionary<string, string>
        {
            ["ASPNETCORE_ENVIRONMENT"] = "Development",
            ["ASPNETCORE_URLS"] = $"http://localhost:{port}",
            ["DOTNET_hostBuilder__reloadConfigOnChange"] = "false",
            // The pages' file-version lookups watch wwwroot; polling keeps two more servers off the machine's inotify
            // instances, which every process of the user shares.
            ["DOTNET_USE_POLLING_FILE_WATCHER"] = "true",
            ["Database__Provider"] = "PostgreSql",
            ["ConnectionStrings__AuthServer"] = connectionString,
            ["AuthServer__Issuer"] = issuer.GetLeftPart(UriPartial.Authority),
            // Only the bus can spread a rotation within the test: the periodic reload is a day away.
            ["Keys__CheckInterval"] = "1.00:00:00",
            ["Logging__LogLevel__Default"] = "Warning",
            ["Logging__LogLevel__AuthServer.Cluster"] = "Information",
            [$"Clients__{FastClient}__DisplayName"] = "Node test TV",
            [$"Clients__{FastClient}__GrantTypes__0"] = "urn:ietf:params:oauth:grant-type:device_code",
            [$"Clients__{FastClient}__GrantTypes__1"] = "refresh_token",
            [$"Clients__{FastClient}__Scopes__0"] = "openid",
            [$"Clients__{FastClient}__Scopes__1"] = "offline_access",
            [$"Clients__{FastClient}__Scopes__2"] = "api",
            [$"Clients__{FastClient}__PollInterval"] = "00:00:01",
        };
        foreach (var (key, value) in AuthServerFactory.RaisedRateLimits) environment[key.Replace(":", "__", StringComparison.Ordinal)] = value;
        foreach (var (key, value) in settings ?? new Dictionary<string, string>()) environment[key] = value;
        foreach (var (key, value) in environment) start.Environment[key] = value;

        var process = new Process { StartInfo = start };
        var node = new ServerNode(name, port, process);
        process.OutputDataReceived += (_, line) => node.Append(line.Data);
        process.ErrorDataReceived += (_, line) => node.Append(line.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            await node.WaitUntilReadyAsync(TimeSpan.FromSeconds(120));
        }
        catch
        {
            await node.DisposeAsync();
            throw;
        }
        return node;
    }

    /// <summary>Waits (bounded polling) until the node answers ready; fails with its output if it exits or never does.</summary>
    public async Task WaitUntilReadyAsync(TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        var last = "no answer";
        while (true)
        {
            if (_process.HasExited) throw new ShouldAssertException($"node {Name} exited with {_process.ExitCode}:\n{Output}");
            try
            {
                // A node still starting on a busy machine may hold the first request for a while: each probe is
                // bounded on its own, and one that runs out is just another "not yet".
                using var probe = new CancellationTokenSource(TimeSpan.FromSeconds(10));
                using var ready = await Http.GetAsync("/health/ready", probe.Token);
                if (ready.StatusCode == HttpStatusCode.OK) return;
                last = $"{(int)ready.StatusCode} {await ready.Content.ReadAsStringAsync()}";
            }
            catch (Exception error) when (error is HttpRequestException or TaskCanceledException)
            {
                // Not listening yet, or not answering yet.
                last = error.Message;
            }
            if (DateTime.UtcNow > deadline)
                throw new ShouldAssertException($"node {Name} was not ready within {timeout.TotalSeconds} s (last probe: {last}):\n{Output}");
            await Task.Delay(100);
        }
    }

    private void Append(string? line)
    {
        if (line is null) return;
        lock (_output) _output.AppendLine(line);
    }

    /// <summary>The dotnet host running these tests (so the same runtime), or the one on the PATH.</summary>
    private static string DotnetHost() =>
        Environment.ProcessPath is { } path && Path.GetFileNameWithoutExtension(path) == "dotnet" ? path : "dotnet";

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                using var exit = new CancellationTokenSource(TimeSpan.FromSeconds(30));
                await _process.WaitForExitAsync(exit.Token);
            }
        }
        catch (InvalidOperationException)
        {
            // Never started.
        }
        _process.Dispose();
    }
}

/// <summary>
/// The tests that start server processes run alone: two nodes (and a PostgreSQL cluster) starting on a two-core
/// machine beside the in-memory classes would make their start-up, not the behaviour under test, the thing measured.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ServerProcesses
{
    public const string Name = "Server processes";
}
