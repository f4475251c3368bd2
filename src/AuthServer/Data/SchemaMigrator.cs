using System.Data.Common;
using System.Reflection;
using Microsoft.EntityFrameworkCore;

namespace AuthServer.Data;

/// <summary>
/// Applies the versioned SQL scripts under <c>Data/Migrations/&lt;provider&gt;/NNNN_name.sql</c> that the database has
/// not seen yet, each in its own transaction, and records them in <c>__SchemaVersions</c>.
/// EF's migration scaffolding cannot be installed here, so the scripts are written by hand; a test proves that the
/// migrated schema equals the one the EF model creates.
/// </summary>
public sealed class SchemaMigrator(AuthServerDbContext db, ILogger<SchemaMigrator> logger, TimeProvider clock)
{
    public async Task MigrateAsync(CancellationToken cancellationToken = default)
    {
        var provider = db.Database.IsSqlite() ? "Sqlite" : throw new NotSupportedException(
            $"No schema scripts for the database provider {db.Database.ProviderName}.");

        await db.Database.OpenConnectionAsync(cancellationToken);
        try
        {
            var connection = db.Database.GetDbConnection();
            if (provider == "Sqlite")
            {
                // Write-ahead logging lets pollers read while a login is being approved. It is persistent.
                await ExecuteAsync(connection, null, "PRAGMA journal_mode=WAL;", cancellationToken);
            }
            await ExecuteAsync(connection, null,
                "CREATE TABLE IF NOT EXISTS \"__SchemaVersions\" (\"Version\" INTEGER NOT NULL PRIMARY KEY, \"Name\" TEXT NOT NULL, \"AppliedAt\" TEXT NOT NULL);",
                cancellationToken);

            var applied = new HashSet<int>();
            await using (var read = connection.CreateCommand())
            {
                read.CommandText = "SELECT \"Version\" FROM \"__SchemaVersions\";";
                await using var reader = await read.ExecuteReaderAsync(cancellationToken);
                while (await reader.ReadAsync(cancellationToken)) applied.Add(reader.GetInt32(0));
            }

            foreach (var script in Scripts(provider).Where(s => !applied.Contains(s.Version)))
            {
                await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
                await ExecuteAsync(connection, transaction, script.Sql, cancellationToken);
                await using var record = connection.CreateCommand();
                record.Transaction = transaction;
                record.CommandText = "INSERT INTO \"__SchemaVersions\" (\"Version\", \"Name\", \"AppliedAt\") VALUES (@v, @n, @a);";
                AddParameter(record, "@v", script.Version);
                AddParameter(record, "@n", script.Name);
                AddParameter(record, "@a", clock.GetUtcNow().ToString("O"));
                await record.ExecuteNonQueryAsync(cancellationToken);
                await transaction.CommitAsync(cancellationToken);
                logger.LogInformation("Applied schema migration {Version} {Name}", script.Version, script.Name);
            }
        }
        finally
        {
            await db.Database.CloseConnectionAsync();
        }
    }

    public sealed record Script(int Version, string Name, string Sql);

    /// <summary>The embedded scripts for a provider, in version order.</summary>
    public static IReadOnlyList<Script> Scripts(string provider)
    {
        var assembly = typeof(SchemaMigrator).Assembly;
        var prefix = $"{assembly.GetName().Name}.Data.Migrations.{provider}.";
        return assembly.GetManifestResourceNames()
            .Where(name => name.StartsWith(prefix, StringComparison.Ordinal) && name.EndsWith(".sql", StringComparison.Ordinal))
            .Select(name =>
            {
                var file = name[prefix.Length..^".sql".Length];
                var version = int.Parse(file[..file.IndexOf('_')], System.Globalization.CultureInfo.InvariantCulture);
                using var reader = new StreamReader(assembly.GetManifestResourceStream(name)!);
                return new Script(version, file, reader.ReadToEnd());
            })
            .OrderBy(s => s.Version)
            .ToList();
    }

    private static async Task ExecuteAsync(DbConnection connection, DbTransaction? transaction, string sql, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private static void AddParameter(DbCommand command, string name, object value)
    {
        var parameter = command.CreateParameter();
        parameter.ParameterName = name;
        parameter.Value = value;
        command.Parameters.Add(parameter);
    }
}
