using System.Diagnostics;
using System.Security.Cryptography;
using Npgsql;

namespace AuthServer.Tests.Cluster;

/// <summary>
/// A PostgreSQL cluster of the test's own, which it may stop and start: initdb in a temporary directory, pg_ctl on a
/// free loopback port, as ./test.sh does (as the postgres user when the tests run as root, since initdb refuses
/// root). The binaries come from <see cref="Variable"/>, which ./test.sh exports; stopped and deleted on dispose.
/// </summary>
internal sealed class ThrowawayPostgres : IAsyncDisposable
{
    public const string Variable = "AUTHSERVER_TEST_PG_BIN";

    private readonly string _bin;
    private readonly string _root = Directory.CreateTempSubdirectory("authserver-pg-").FullName;
    private readonly string _password = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
    private readonly bool _asPostgresUser = Environment.UserName == "root";

    private ThrowawayPostgres(string bin)
    {
        _bin = bin;
        Port = ServerNode.FreePort();
    }

    public int Port { get; }

    private string Data => Path.Combine(_root, "data");

    /// <summary>A connection string for <paramref name="database"/> on this cluster.</summary>
    public string ConnectionString(string database = "postgres") => new NpgsqlConnectionStringBuilder
    {
        Host = "127.0.0.1", Port = Port, Username = "postgres", Password = _password, Database = database, MaxPoolSize = 20,
    }.ConnectionString;

    public static async Task<ThrowawayPostgres> CreateAsync()
    {
        var bin = Environment.GetEnvironmentVariable(Variable);
        if (string.IsNullOrWhiteSpace(bin) || !File.Exists(Path.Combine(bin, "initdb")))
            throw new InvalidOperationException(
                $"The fault test stops and starts a PostgreSQL cluster of its own and needs {Variable}: the directory of " +
                "PostgreSQL's initdb and pg_ctl (./test.sh sets it), e.g. the output of pg_config --bindir.");
        var cluster = new ThrowawayPostgres(bin);
        try
        {
            await File.WriteAllTextAsync(Path.Combine(cluster._root, "password"), cluster._password + "\n");
            if (cluster._asPostgresUser) await RunAsync("chown", "-R", "postgres:", cluster._root);
            await cluster.RunPostgresAsync("initdb", "-D", cluster.Data, "-U", "postgres", "--auth=scram-sha-256",
                $"--pwfile={Path.Combine(cluster._root, "password")}", "-E", "UTF8", "--no-sync");
            await cluster.StartAsync();
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
        return cluster;
    }

    public Task StartAsync() => RunPostgresAsync("pg_ctl", "-D", Data, "-l", Path.Combine(_root, "server.log"), "-w", "-t", "60", "-o",
        $"-c listen_addresses=127.0.0.1 -p {Port} -c unix_socket_directories={_root} -c fsync=off -c synchronous_commit=off -c full_page_writes=off",
        "start");

    /// <summary>A fast shutdown: PostgreSQL ends every session, as an operator's restart or a failover would.</summary>
    public Task StopAsync() => RunPostgresAsync("pg_ctl", "-D", Data, "-m", "fast", "-w", "stop");

    public async Task CreateDatabaseAsync(string name)
    {
        await using var connection = new NpgsqlConnection(ConnectionString());
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand($"CREATE DATABASE \"{name}\"", connection);
        await command.ExecuteNonQueryAsync();
    }

    private Task RunPostgresAsync(string tool, params string[] arguments)
    {
        var path = Path.Combine(_bin, tool);
        return _asPostgresUser ? RunAsync("runuser", ["-u", "postgres", "--", path, .. arguments]) : RunAsync(path, arguments);
    }

    private static async Task RunAsync(string file, params string[] arguments)
    {
        using var process = Process.Start(new ProcessStartInfo(file, arguments)
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        })!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        await process.WaitForExitAsync(timeout.Token);
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"{file} {string.Join(' ', arguments)} failed ({process.ExitCode}): {await output}{await error}");
    }

    public async ValueTask DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        try
        {
            if (Directory.Exists(Data)) await RunPostgresAsync("pg_ctl", "-D", Data, "-m", "immediate", "stop");
        }
        catch (InvalidOperationException)
        {
            // Already stopped.
        }
        try { Directory.Delete(_root, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
