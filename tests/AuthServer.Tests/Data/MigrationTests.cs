using AuthServer.Data;
using AuthServer.Tests.Infrastructure;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Metadata;
using Microsoft.EntityFrameworkCore.Migrations;
using Microsoft.Extensions.Logging;

namespace AuthServer.Tests.Data;

/// <summary>
/// The schema comes from the EF Core migrations of the provider in use, Data/Migrations/Sqlite or
/// Data/Migrations/PostgreSql, applied at start-up.
/// </summary>
public sealed class MigrationTests
{
    [Fact]
    public void The_migrations_hold_every_change_of_the_model()
    {
        // The context the EF tools build, so this fails exactly when "dotnet ef migrations add" would add something.
        using var db = new SqliteDesignTimeFactory().CreateDbContext([]);

        db.Database.GetMigrations().ShouldContain(id => id.EndsWith("_Initial", StringComparison.Ordinal));
        db.Database.HasPendingModelChanges().ShouldBeFalse("the model changed: add a migration (docs/operations.md)");
    }

    [Fact]
    public void The_PostgreSql_migrations_hold_every_change_of_the_model()
    {
        // As above, with the context "dotnet ef migrations add --context PostgreSqlAuthServerDbContext" builds.
        using var db = new PostgreSqlDesignTimeFactory().CreateDbContext([]);

        db.Database.GetMigrations().ShouldContain(id => id.EndsWith("_Initial", StringComparison.Ordinal));
        db.Database.HasPendingModelChanges().ShouldBeFalse("the model changed: add a migration for each provider (docs/operations.md)");
    }

    [Fact]
    public void Both_providers_store_the_same_columns_with_times_as_Unix_milliseconds()
    {
        using var sqlite = new SqliteDesignTimeFactory().CreateDbContext([]);
        using var postgres = new PostgreSqlDesignTimeFactory().CreateDbContext([]);

        static Type StoredType(IProperty property)
        {
            var type = property.GetTypeMapping().Converter?.ProviderClrType ?? property.ClrType;
            return Nullable.GetUnderlyingType(type) ?? type;
        }
        static List<string> Columns(DbContext db) =>
        [
            .. db.Model.GetEntityTypes().SelectMany(entity => entity.GetProperties().Select(p =>
                $"{entity.GetTableName()}.{p.GetColumnName()} {StoredType(p).Name} {(p.IsNullable ? "null" : "not null")}"))
                .Order(),
        ];
        Columns(postgres).ShouldBe(Columns(sqlite));
        Columns(postgres).ShouldContain("DeviceAuthorizations.ExpiresAt Int64 not null");
        Columns(postgres).ShouldContain("DeviceAuthorizations.Status String not null");
        Columns(postgres).ShouldContain("AspNetUsers.LockoutEnd Int64 null");
    }

    [Fact]
    public void Both_providers_keep_the_unique_indexes_that_refuse_a_duplicate_code_or_login_request()
    {
        // TokenManager.ValidateAsync skips OpenIddict's lookup of a new reference id before it is written: the unique
        // index alone refuses two device or user codes with the same reference id. The pending-changes tests above
        // prove the migrations create what the model says.
        using var sqlite = new SqliteDesignTimeFactory().CreateDbContext([]);
        using var postgres = new PostgreSqlDesignTimeFactory().CreateDbContext([]);
        static List<string> UniqueIndexes(DbContext db) =>
        [
            .. db.Model.GetEntityTypes().SelectMany(entity => entity.GetIndexes().Where(index => index.IsUnique).Select(index =>
                $"{entity.GetTableName()}({string.Join(",", index.Properties.Select(p => p.GetColumnName()))})")).Order(),
        ];

        UniqueIndexes(postgres).ShouldBe(UniqueIndexes(sqlite));
        UniqueIndexes(sqlite).ShouldContain("OpenIddictTokens(ReferenceId)");
        UniqueIndexes(sqlite).ShouldContain("DeviceAuthorizations(DeviceCodeHash)");
    }

    [Fact]
    public async Task A_new_PostgreSql_database_is_migrated_at_start_up_and_serves_a_whole_login_with_its_audit_trail()
    {
        using var factory = AuthServerFactory.On(DatabaseProvider.PostgreSql);
        await using (var empty = await factory.OpenDatabaseAsync())
            (await empty.ScalarAsync<long>("SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = 'public'")).ShouldBe(0);

        var tokens = await factory.SignInDeviceAsync();

        tokens.Get("access_token").ShouldNotBeNullOrEmpty();
        tokens.Get("refresh_token").ShouldNotBeNullOrEmpty();
        (await factory.CreateClient().RefreshAsync(tokens.Get("refresh_token"))).Status.ShouldBe(System.Net.HttpStatusCode.OK);
        await using var connection = await factory.OpenDatabaseAsync();
        using var db = new PostgreSqlDesignTimeFactory().CreateDbContext([]);
        (await connection.RowsAsync("SELECT \"MigrationId\" FROM \"__EFMigrationsHistory\" ORDER BY \"MigrationId\""))
            .Select(row => (string)row[0]!).ShouldBe(db.Database.GetMigrations());
        // The hand-written statements stored the login request as the model maps it: times in Unix milliseconds,
        // the status by name; the trigger audited its scan and approval in the same statements.
        var request = (await connection.RowsAsync("SELECT \"Status\", \"ExpiresAt\" - \"CreatedAt\", \"ScannedAt\" FROM \"DeviceAuthorizations\"")).ShouldHaveSingleItem();
        request[0].ShouldBe("Redeemed");
        request[1].ShouldBe(5 * 60 * 1000L);
        request[2].ShouldBe(factory.Clock.GetUtcNow().ToUnixTimeMilliseconds());
        (await connection.RowsAsync("SELECT \"Type\" FROM \"AuditEvents\" WHERE \"Type\" LIKE 'login_request.%' ORDER BY \"Id\""))
            .Select(row => (string)row[0]!).ShouldBe(["login_request.scanned", "login_request.approved"]);
        (await connection.RowsAsync("SELECT \"Xml\" FROM \"DataProtectionKeys\"")).ShouldContain(row => ((string)row[0]!).StartsWith("<key ", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_new_database_file_is_migrated_at_start_up_and_serves_a_whole_login()
    {
        using var factory = new AuthServerFactory();
        File.Exists(factory.DatabasePath).ShouldBeFalse();

        var tokens = await factory.SignInDeviceAsync();

        tokens.Get("access_token").ShouldNotBeNullOrEmpty();
        tokens.Get("refresh_token").ShouldNotBeNullOrEmpty();
        await using var connection = new SqliteConnection($"Data Source={factory.DatabasePath}");
        await connection.OpenAsync();
        using var db = new SqliteDesignTimeFactory().CreateDbContext([]);
        (await ColumnAsync(connection, "SELECT \"MigrationId\" FROM \"__EFMigrationsHistory\" ORDER BY \"MigrationId\""))
            .ShouldBe(db.Database.GetMigrations());
        (await ColumnAsync(connection, "PRAGMA journal_mode")).ShouldBe(["wal"]);
        (await TablesAsync(connection)).ShouldNotContain(AuthServerDatabase.LegacyVersionTable);
        // The framework's Data Protection store holds the key ring that encrypts the signing keys.
        (await ColumnAsync(connection, "SELECT \"Xml\" FROM \"DataProtectionKeys\"")).ShouldContain(xml => xml.StartsWith("<key ", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_database_short_of_the_last_migration_gets_it_and_a_complete_one_is_left_to_the_model_check_of_the_tests()
    {
        var directory = Directory.CreateTempSubdirectory("authserver-migrations-");
        var connectionString = $"Data Source={Path.Combine(directory.FullName, "authserver.db")}";
        var events = new List<EventId>();
        EventId[] migratorEvents = [RelationalEventId.MigrateUsingConnection, RelationalEventId.MigrationApplying, RelationalEventId.MigrationsNotApplied];
        SqliteAuthServerDbContext Context() => new(new DbContextOptionsBuilder<SqliteAuthServerDbContext>().UseSqlite(connectionString)
            .WithServerIdentityOptions()
            .LogTo((id, _) => migratorEvents.Contains(id), data => { lock (events) events.Add(data.EventId); })
            .Options);
        try
        {
            string[] all;
            await using (var db = Context())
            {
                all = [.. db.Database.GetMigrations()];
                await db.GetService<IMigrator>().MigrateAsync(all[^2]);
            }
            events.Clear();

            // The server's start-up: the one migration missing is applied, through the migrator.
            await using (var db = Context()) await AuthServerDatabase.MigrateAsync(db);
            events.ShouldContain(RelationalEventId.MigrationApplying);
            await using (var db = Context()) (await db.Database.GetAppliedMigrationsAsync()).ShouldBe(all);

            // The next start finds nothing to apply and leaves the migrator (and its snapshot model) alone.
            events.Clear();
            await using (var db = Context()) await AuthServerDatabase.MigrateAsync(db);
            events.ShouldBeEmpty();
        }
        finally
        {
            SqliteConnection.ClearAllPools();
            directory.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task A_database_built_by_the_old_schema_scripts_stops_start_up_and_is_left_as_it_was()
    {
        using var factory = new AuthServerFactory();
        await using (var legacy = new SqliteConnection($"Data Source={factory.DatabasePath}"))
        {
            await legacy.OpenAsync();
            await ExecuteAsync(legacy,
                "PRAGMA journal_mode=WAL;" +
                $"CREATE TABLE \"{AuthServerDatabase.LegacyVersionTable}\" (\"Version\" INTEGER NOT NULL PRIMARY KEY, \"Name\" TEXT NOT NULL, \"AppliedAt\" TEXT NOT NULL);" +
                $"INSERT INTO \"{AuthServerDatabase.LegacyVersionTable}\" VALUES (1, '0001_initial', '2026-01-01T00:00:00.0000000+00:00'), (2, '0002_authorization_code', '2026-02-01T00:00:00.0000000+00:00');" +
                "CREATE TABLE \"AspNetUsers\" (\"Id\" TEXT NOT NULL PRIMARY KEY, \"UserName\" TEXT NULL);" +
                "INSERT INTO \"AspNetUsers\" VALUES ('old-user', 'someone@example.com');");
        }
        SqliteConnection.ClearAllPools();

        var failure = Should.Throw<Exception>(() => factory.CreateClient());

        var refusal = Chain(failure).OfType<InvalidOperationException>().FirstOrDefault(e => e.Message.Contains(AuthServerDatabase.LegacyVersionTable));
        refusal.ShouldNotBeNull($"start-up failed for another reason: {failure}");
        refusal.Message.ShouldBe(AuthServerDatabase.LegacyDatabaseMessage(factory.DatabasePath));
        refusal.Message.ShouldContain("back the file up");
        refusal.Message.ShouldContain("OpenIddict");

        SqliteConnection.ClearAllPools();
        await using var connection = new SqliteConnection($"Data Source={factory.DatabasePath}");
        await connection.OpenAsync();
        (await TablesAsync(connection)).ShouldBe(["AspNetUsers", AuthServerDatabase.LegacyVersionTable], ignoreOrder: true);
        (await ColumnAsync(connection, $"SELECT \"Name\" FROM \"{AuthServerDatabase.LegacyVersionTable}\" ORDER BY \"Version\""))
            .ShouldBe(["0001_initial", "0002_authorization_code"]);
        (await ColumnAsync(connection, "SELECT \"UserName\" FROM \"AspNetUsers\"")).ShouldBe(["someone@example.com"]);
    }

    private static IEnumerable<Exception> Chain(Exception exception)
    {
        for (Exception? e = exception; e is not null; e = e.InnerException)
        {
            yield return e;
            if (e is AggregateException aggregate)
                foreach (var inner in aggregate.InnerExceptions.SelectMany(Chain)) yield return inner;
        }
    }

    private static Task<List<string>> TablesAsync(SqliteConnection connection) =>
        ColumnAsync(connection, "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'");

    private static async Task<List<string>> ColumnAsync(SqliteConnection connection, string sql)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        await using var reader = await command.ExecuteReaderAsync();
        var values = new List<string>();
        while (await reader.ReadAsync()) values.Add(reader.GetString(0));
        return values;
    }

    private static async Task ExecuteAsync(SqliteConnection connection, string sql)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync();
    }
}
