using AuthServer.Hosting;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Npgsql;

namespace AuthServer.Data;

/// <summary>The store <c>Database:Provider</c> selects.</summary>
public enum DatabaseProvider
{
    /// <summary>One file, one process: the embedded default.</summary>
    Sqlite,

    /// <summary>A PostgreSQL server, which several nodes can share.</summary>
    PostgreSql,
}

/// <summary>
/// Registers the database the configuration names: the pooled EF context (as <see cref="AuthServerDbContext"/>, the
/// provider's own subclass underneath), the <see cref="StatementRunner"/> of the hot paths, and whatever only that
/// provider needs. The SQLite write gate, lanes, pragmas and checkpointer are registered for SQLite alone, so
/// PostgreSQL neither queues on them nor pays for their interceptors.
/// </summary>
public static class DatabaseRegistration
{
    public const string ProviderKey = "Database:Provider";

    public static DatabaseProvider ReadProvider(IConfiguration configuration)
    {
        var text = configuration[ProviderKey];
        if (string.IsNullOrWhiteSpace(text)) return DatabaseProvider.Sqlite;
        return Enum.TryParse<DatabaseProvider>(text.Trim(), ignoreCase: true, out var provider) && Enum.IsDefined(provider)
            ? provider
            : throw new InvalidOperationException($"{ProviderKey} must be Sqlite or PostgreSql, not '{text}'.");
    }

    public static void AddDatabase(this WebApplicationBuilder builder)
    {
        var connectionString = builder.Configuration.GetConnectionString(AuthServerServices.ConnectionStringName)
            ?? throw new InvalidOperationException($"ConnectionStrings:{AuthServerServices.ConnectionStringName} is not set.");
        var provider = ReadProvider(builder.Configuration);
        var services = builder.Services;
        services.AddSingleton(new DatabaseInfo(provider));
        // The audit log's who and where come from the request that makes a change (AuditInterceptor).
        services.AddHttpContextAccessor();
        services.AddSingleton<AuditInterceptor>();
        if (provider == DatabaseProvider.PostgreSql) AddPostgreSql(builder, connectionString);
        else AddSqlite(builder, connectionString);

        // The Data Protection key ring (cookies, antiforgery, signing-key encryption) lives in the database too.
        services.AddDataProtection().SetApplicationName("AuthServer").PersistKeysToDbContext<AuthServerDbContext>();
    }

    private static void AddSqlite(WebApplicationBuilder builder, string connectionString)
    {
        var services = builder.Services;
        // One write gate per process: SQLite has one writer, so writers queue here instead of sleeping in busy retries.
        services.AddSingleton(new SqliteFile(connectionString));
        services.AddSingleton(provider => new SqliteWriteGate(provider.GetRequiredService<SqliteFile>()));
        // The hot paths' own connections, statements prepared once (SqliteLanes). One per core: SQLite runs one writer
        // at a time anyway, and each extra connection drops its page cache whenever another one commits.
        var lanes = builder.Configuration.GetValue<int?>("Storage:SqliteLanes") ?? Math.Max(2, Environment.ProcessorCount);
        if (lanes < 1) throw new InvalidOperationException("Storage:SqliteLanes must be at least 1.");
        services.AddSingleton(new SqliteLanes(connectionString, size: lanes));
        services.AddSingleton<StatementRunner, SqliteStatementRunner>();
        // Checkpoints of the write-ahead log on a background thread, not in the commit that fills it.
        services.AddSingleton(provider => new SqliteCheckpointer(provider.GetRequiredService<SqliteFile>(),
            provider.GetRequiredService<SqliteWriteGate>(), connectionString,
            provider.GetRequiredService<TimeProvider>(), provider.GetRequiredService<ILogger<SqliteCheckpointer>>()));
        services.AddHostedService(provider => provider.GetRequiredService<SqliteCheckpointer>());
        // Pooled: contexts are reset and reused instead of built per request.
        services.AddDbContextPool<AuthServerDbContext, SqliteAuthServerDbContext>((provider, options) => options.UseSqlite(connectionString).WithoutModelCheckAtMigration()
            .AddInterceptors(new SqlitePragmas(), provider.GetRequiredService<SqliteWriteGate>(), provider.GetRequiredService<AuditInterceptor>(),
                new AuthServerDbContext.AfterCommit()));
    }

    /// <summary>
    /// Before it applies a migration, EF Core looks for model changes that have no migration, and to do so builds the
    /// design-time model and the latest snapshot's model by the conventions: about 10 MB of compiled code and type
    /// data, kept for the life of the process, on every start that migrates. That check belongs to the build, not to
    /// the server: <c>MigrationTests</c> fails when the model has a change without a migration, for each provider.
    /// </summary>
    private static DbContextOptionsBuilder WithoutModelCheckAtMigration(this DbContextOptionsBuilder options) =>
        options.ConfigureWarnings(warnings => warnings.Ignore(RelationalEventId.PendingModelChangesWarning));

    private static void AddPostgreSql(WebApplicationBuilder builder, string connectionString)
    {
        var services = builder.Services;
        NpgsqlConnectionStringBuilder settings;
        try
        {
            settings = new NpgsqlConnectionStringBuilder(connectionString);
        }
        catch (ArgumentException e)
        {
            throw new InvalidOperationException($"ConnectionStrings:{AuthServerServices.ConnectionStringName} is not a valid PostgreSQL connection string: {e.Message}", e);
        }
        // Every statement of the hot paths and of OpenIddict's and Identity's lookups repeats on every login; prepared
        // once per physical connection, the server parses and plans each of them once. An operator's own setting wins.
        if (settings.MaxAutoPrepare == 0) settings.MaxAutoPrepare = 64;
        // One data source for EF and the hot paths: one pool, one set of prepared statements per connection.
        services.AddSingleton(_ => new NpgsqlDataSourceBuilder(settings.ConnectionString).Build());
        services.AddSingleton<StatementRunner, NpgsqlStatementRunner>();
        services.AddDbContextPool<AuthServerDbContext, PostgreSqlAuthServerDbContext>((provider, options) => options
            .UseNpgsql(provider.GetRequiredService<NpgsqlDataSource>()).WithoutModelCheckAtMigration()
            .AddInterceptors(provider.GetRequiredService<AuditInterceptor>(), new AuthServerDbContext.AfterCommit()));
    }
}

/// <summary>Which provider this process runs on, for the few places that differ (start-up checks, tests).</summary>
public sealed record DatabaseInfo(DatabaseProvider Provider);
