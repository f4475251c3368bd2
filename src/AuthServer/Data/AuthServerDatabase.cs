using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Migrations;

namespace AuthServer.Data;

/// <summary>Brings the database to the model's schema at start-up with the EF Core migrations in Data/Migrations.</summary>
public static class AuthServerDatabase
{
    /// <summary>The version table of the hand-written SQL scripts that built the schema before EF migrations.</summary>
    public const string LegacyVersionTable = "__SchemaVersions";

    /// <summary>
    /// Applies the migrations the database has not seen yet: the set of the context's provider (Migrations/Sqlite or
    /// Migrations/PostgreSql). On PostgreSQL, EF creates the database when the login may and it does not exist yet, and
    /// holds a lock on its history table while it migrates, so nodes starting together apply each migration once.
    /// A SQLite file built by the old scripts is refused untouched:
    /// its tables would clash with the initial migration, and it gets no upgrade path because the protocol storage
    /// moves to OpenIddict.
    /// </summary>
    public static async Task MigrateAsync(AuthServerDbContext db, CancellationToken cancellationToken = default)
    {
        if (db.Database.IsSqlite())
        {
            await db.Database.OpenConnectionAsync(cancellationToken);
            try
            {
                var connection = (SqliteConnection)db.Database.GetDbConnection();
                if (await TableExistsAsync(connection, LegacyVersionTable, cancellationToken)
                    && !await TableExistsAsync(connection, HistoryRepository.DefaultTableName, cancellationToken))
                {
                    throw new InvalidOperationException(LegacyDatabaseMessage(connection.DataSource));
                }
                // Write-ahead logging lets pollers read while a login is being approved. The mode belongs to the file
                // and persists, but it cannot change inside the transaction a migration runs in, so it is set first.
                await db.Database.ExecuteSqlRawAsync("PRAGMA journal_mode=WAL;", cancellationToken);
            }
            finally
            {
                await db.Database.CloseConnectionAsync();
            }
        }
        // A database that has every migration (a restart) skips MigrateAsync, which builds the model of the latest
        // migration's snapshot by the conventions to look for model changes without a migration (MigrationTests check
        // that instead) and keeps what that compiled and allocated for the life of the process. Listing the applied
        // migrations is one query; the set to apply comes from the assembly's attributes, with no model built.
        if (!(await db.Database.GetPendingMigrationsAsync(cancellationToken)).Any()) return;
        await db.Database.MigrateAsync(cancellationToken);
    }

    public static string LegacyDatabaseMessage(string path) =>
        $"The database file '{path}' was created by an earlier AuthServer, whose hand-written schema scripts are " +
        $"recorded in its {LegacyVersionTable} table, and it is not upgraded: the protocol storage moves to OpenIddict " +
        "and the old schema has no migration to it. Nothing in the file was changed. Stop the server, back the file up " +
        "together with its -wal and -shm files, then delete or move them (or point ConnectionStrings:AuthServer at a " +
        "new file); the next start creates a new database. Users, linked devices and signing keys of the old file are " +
        "not carried over; clients are registered again from configuration.";

    private static async Task<bool> TableExistsAsync(SqliteConnection connection, string table, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = $name;";
        command.Parameters.AddWithValue("$name", table);
        return (long)(await command.ExecuteScalarAsync(cancellationToken))! > 0;
    }
}
