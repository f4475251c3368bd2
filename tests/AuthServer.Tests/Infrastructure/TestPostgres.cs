using Npgsql;

namespace AuthServer.Tests.Infrastructure;

/// <summary>
/// The PostgreSQL server the PostgreSQL half of the suite runs on, named by <see cref="Variable"/> (./test.sh starts a
/// throwaway cluster and sets it). Each test server gets a database of its own, created empty and dropped afterwards,
/// so test classes stay independent of each other and of earlier runs.
/// </summary>
internal static class TestPostgres
{
    public const string Variable = "AUTHSERVER_TEST_POSTGRES";

    /// <summary>Why a PostgreSQL test cannot run here, and how to make it run: it fails rather than passing unseen.</summary>
    public static readonly string Missing =
        $"The PostgreSQL tests need a PostgreSQL server and {Variable} is not set. Run ./test.sh, which starts a " +
        "throwaway PostgreSQL cluster for the run, or set " + Variable + " to the connection string of a login that may " +
        "create databases, e.g. Host=127.0.0.1;Port=5432;Username=postgres;Password=...";

    private static readonly Lazy<NpgsqlDataSource> Maintenance = new(() =>
    {
        var server = Environment.GetEnvironmentVariable(Variable);
        if (string.IsNullOrWhiteSpace(server)) throw new InvalidOperationException(Missing);
        return NpgsqlDataSource.Create(new NpgsqlConnectionStringBuilder(server) { Database = "postgres", Pooling = false }.ConnectionString);
    });

    /// <summary>Creates an empty database and returns the connection string a test server uses for it.</summary>
    public static string CreateDatabase()
    {
        var name = "authserver_test_" + Guid.NewGuid().ToString("N");
        using (var command = Maintenance.Value.CreateCommand($"CREATE DATABASE \"{name}\"")) command.ExecuteNonQuery();
        return new NpgsqlConnectionStringBuilder(Environment.GetEnvironmentVariable(Variable))
        {
            Database = name,
            // A test may run a hundred requests at once; beyond this many connections they wait for one, rather than
            // exhausting the server's connection limit, which every concurrently running test class shares.
            MaxPoolSize = 20,
        }.ConnectionString;
    }

    /// <summary>Drops a test server's database, closing whatever connection still holds it.</summary>
    public static void DropDatabase(string connectionString)
    {
        var name = new NpgsqlConnectionStringBuilder(connectionString).Database;
        using var command = Maintenance.Value.CreateCommand($"DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)");
        command.ExecuteNonQuery();
    }
}
