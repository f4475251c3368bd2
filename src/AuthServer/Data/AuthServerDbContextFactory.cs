// Add a migration after changing the model, from the repository root, once per provider:
//   dotnet tool restore
//   dotnet ef migrations add <Name> --project src/AuthServer --context SqliteAuthServerDbContext --output-dir Data/Migrations/Sqlite
//   dotnet ef migrations add <Name> --project src/AuthServer --context PostgreSqlAuthServerDbContext --output-dir Data/Migrations/PostgreSql
// (dotnet ef is the dotnet-ef of .config/dotnet-tools.json; "dotnet tool run dotnet-ef ..." is the same command.)
// Start-up applies them; tests/AuthServer.Tests/Data/MigrationTests.cs fails while the model has changes either set lacks.

using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;

namespace AuthServer.Data;

public static class DesignTimeModel
{
    /// <summary>
    /// Identity's part of the model reads <see cref="IdentityOptions"/> from the application's services: the server's
    /// AddDefaultIdentity limits key columns to 128 characters, so the tools must build the model with the same limit,
    /// or a migration would not match the model the server checks at start-up.
    /// </summary>
    public static DbContextOptionsBuilder<T> WithServerIdentityOptions<T>(this DbContextOptionsBuilder<T> options) where T : DbContext =>
        options.UseApplicationServiceProvider(new ServiceCollection()
            .Configure<IdentityOptions>(identity => identity.Stores.MaxLengthForKeys = 128)
            .BuildServiceProvider());
}

/// <summary>
/// The SQLite context the EF tools build to read the model, so <c>dotnet ef</c> needs neither the host nor its
/// configuration. Adding a migration never opens the database; the file named here matters only to
/// <c>dotnet ef database update</c>.
/// </summary>
public sealed class SqliteDesignTimeFactory : IDesignTimeDbContextFactory<SqliteAuthServerDbContext>
{
    public SqliteAuthServerDbContext CreateDbContext(string[] args) =>
        new(new DbContextOptionsBuilder<SqliteAuthServerDbContext>().UseSqlite("Data Source=authserver.db").WithServerIdentityOptions().Options);
}

/// <summary>
/// The PostgreSQL context the EF tools build. Adding a migration never connects; the connection string matters only to
/// <c>dotnet ef database update</c>, which should be given the real one with <c>--connection</c>.
/// </summary>
public sealed class PostgreSqlDesignTimeFactory : IDesignTimeDbContextFactory<PostgreSqlAuthServerDbContext>
{
    public PostgreSqlAuthServerDbContext CreateDbContext(string[] args) =>
        new(new DbContextOptionsBuilder<PostgreSqlAuthServerDbContext>().UseNpgsql("Host=localhost;Database=authserver").WithServerIdentityOptions().Options);
}
