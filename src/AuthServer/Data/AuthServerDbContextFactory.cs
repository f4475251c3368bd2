// Add a migration after changing the model, from the repository root:
//   dotnet tool restore
//   dotnet ef migrations add <Name> --project src/AuthServer --output-dir Data/Migrations/Sqlite
// (dotnet ef is the dotnet-ef of .config/dotnet-tools.json; "dotnet tool run dotnet-ef ..." is the same command.)
// Start-up applies it; tests/AuthServer.Tests/Data/MigrationTests.cs fails while the model has changes no migration holds.

using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;

namespace AuthServer.Data;

/// <summary>
/// The context the EF tools build to read the model, so <c>dotnet ef</c> needs neither the host nor its configuration.
/// Adding a migration never opens the database; the file named here matters only to <c>dotnet ef database update</c>.
/// </summary>
public sealed class AuthServerDbContextFactory : IDesignTimeDbContextFactory<AuthServerDbContext>
{
    public AuthServerDbContext CreateDbContext(string[] args) =>
        new(new DbContextOptionsBuilder<AuthServerDbContext>().UseSqlite("Data Source=authserver.db").Options);
}
