// Add a migration after changing the model, from the repository root, once per provider:
//   dotnet tool restore
//   dotnet ef migrations add <Name> --project src/AuthServer --context SqliteAuthServerDbContext --output-dir Data/Migrations/Sqlite
//   dotnet ef migrations add <Name> --project src/AuthServer --context PostgreSqlAuthServerDbContext --output-dir Data/Migrations/PostgreSql
// (dotnet ef is the dotnet-ef of .config/dotnet-tools.json; "dotnet tool run dotnet-ef ..." is the same command.)
// Start-up applies them; tests/AuthServer.Tests/Data/MigrationTests.cs fails while the model has changes either set lacks.

using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;

namespace AuthServer.Data;

/// <summary>
/// The SQLite context the EF tools build to read the model, so <c>dotnet ef</c> needs neither the host nor its
/// configuration. Adding a migration never opens the database; the file named here matters only to
/// <c>dotnet ef database update</c>.
/// </summary>
public sealed class SqliteDesignTimeFactory : IDesignTimeDbContextFactory<SqliteAuthServerDbContext>
{
    public SqliteAuthServerDbContext CreateDbContext(string[] args) =>
        new(new DbContextOptionsBuilder<SqliteAuthServerDbContext>().UseSqlite("Data Source=authserver.db").Options);
}

/// <summary>
/// The PostgreSQL context the EF tools build. Adding a migration never connects; the connection string matters only to
/// <c>dotnet ef database update</c>, which should be given the real one with <c>--connection</c>.
/// </summary>
public sealed class PostgreSqlDesignTimeFactory : IDesignTimeDbContextFactory<PostgreSqlAuthServerDbContext>
{
    public PostgreSqlAuthServerDbContext CreateDbContext(string[] args) =>
        new(new DbContextOptionsBuilder<PostgreSqlAuthServerDbContext>().UseNpgsql("Host=localhost;Database=authserver").Options);
}
