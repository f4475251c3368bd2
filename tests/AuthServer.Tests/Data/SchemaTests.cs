using AuthServer.Data;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging.Abstractions;

namespace AuthServer.Tests.Data;

public sealed class SchemaTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("authserver-schema-").FullName;

    [Fact]
    public async Task The_migrated_database_has_exactly_the_schema_of_the_EF_model()
    {
        var migrated = await CatalogAsync("migrated.db", async db =>
            await new SchemaMigrator(db, NullLogger<SchemaMigrator>.Instance, TimeProvider.System).MigrateAsync());
        var modelled = await CatalogAsync("modelled.db", async db => await db.Database.EnsureCreatedAsync());

        migrated.ShouldNotBeEmpty();
        migrated.Except(modelled).ShouldBeEmpty("only in the migrated database");
        modelled.Except(migrated).ShouldBeEmpty("only in the EF model");
        migrated.ShouldBe(modelled); // same column order too
    }

    [Fact]
    public async Task Migrating_twice_applies_each_script_once()
    {
        var path = Path.Combine(_directory, "twice.db");
        for (var i = 0; i < 2; i++)
        {
            await using var db = Open(path);
            await new SchemaMigrator(db, NullLogger<SchemaMigrator>.Instance, TimeProvider.System).MigrateAsync();
        }

        await using var connection = new SqliteConnection($"Data Source={path}");
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT COUNT(*) FROM \"__SchemaVersions\"";
        ((long)(await command.ExecuteScalarAsync())!).ShouldBe(SchemaMigrator.Scripts("Sqlite").Count);
    }

    private AuthServerDbContext Open(string path) =>
        new(new DbContextOptionsBuilder<AuthServerDbContext>().UseSqlite($"Data Source={path}").Options);

    /// <summary>Every table's columns, indexes and foreign keys, as SQLite reports them.</summary>
    private async Task<List<string>> CatalogAsync(string file, Func<AuthServerDbContext, Task> create)
    {
        var path = Path.Combine(_directory, file);
        await using (var db = Open(path)) await create(db);

        var rows = new List<string>();
        await using var connection = new SqliteConnection($"Data Source={path}");
        await connection.OpenAsync();
        var tables = await QueryAsync(connection,
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> '__SchemaVersions' ORDER BY name");
        foreach (var table in tables.Select(t => t[0]))
        {
            foreach (var c in await QueryAsync(connection, $"SELECT name, type, \"notnull\", dflt_value, pk FROM pragma_table_info('{table}') ORDER BY cid"))
                rows.Add($"{table} column {string.Join(' ', c)}");
            foreach (var i in await QueryAsync(connection, $"SELECT name, \"unique\", origin FROM pragma_index_list('{table}') ORDER BY name"))
            {
                var columns = await QueryAsync(connection, $"SELECT name FROM pragma_index_info('{i[0]}') ORDER BY seqno");
                rows.Add($"{table} index {string.Join(' ', i)} ({string.Join(',', columns.Select(x => x[0]))})");
            }
            foreach (var f in await QueryAsync(connection, $"SELECT \"table\", \"from\", \"to\", on_delete FROM pragma_foreign_key_list('{table}') ORDER BY \"table\", \"from\""))
                rows.Add($"{table} foreign key {string.Join(' ', f)}");
        }
        return rows;
    }

    private static async Task<List<string[]>> QueryAsync(SqliteConnection connection, string sql)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new List<string[]>();
        while (await reader.ReadAsync())
            rows.Add(Enumerable.Range(0, reader.FieldCount).Select(i => reader.IsDBNull(i) ? "null" : reader.GetValue(i).ToString()!).ToArray());
        return rows;
    }

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
    }
}
