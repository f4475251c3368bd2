using System.Security.Cryptography;
using Npgsql;

namespace AuthServer.Bench;

/// <summary>
/// A PostgreSQL database of one run's own on the server <c>--postgres</c> names: its name is fresh (so no run sees
/// another's rows), the first AuthServer node creates its schema by migrating it, and it is dropped when the run ends.
/// </summary>
public sealed class BenchDatabase : IAsyncDisposable
{
    private readonly string _server;
    private readonly string _name;

    private BenchDatabase(string server, string name, string connectionString)
    {
        _server = server;
        _name = name;
        ConnectionString = connectionString;
    }

    public string ConnectionString { get; }

    public static async Task<BenchDatabase> CreateAsync(string server, int run)
    {
        var name = $"authserver_bench_{run}_{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4))}";
        var builder = new NpgsqlConnectionStringBuilder(server) { Database = name };
        // Fail now, with the server's own message, rather than as a node that never becomes ready.
        await using (var probe = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(server) { Database = "postgres" }.ConnectionString))
            await probe.OpenAsync();
        return new BenchDatabase(server, name, builder.ConnectionString);
    }

    public async ValueTask DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        await using var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(_server) { Database = "postgres" }.ConnectionString);
        await connection.OpenAsync();
        await using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{_name}\" WITH (FORCE)", connection);
        await drop.ExecuteNonQueryAsync();
    }
}
