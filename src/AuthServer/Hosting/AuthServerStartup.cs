using AuthServer.Clients;
using AuthServer.Data;
using AuthServer.Data.Entities;
using AuthServer.Tokens;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;

namespace AuthServer.Hosting;

public static class AuthServerStartup
{
    /// <summary>
    /// Brings the database to the current schema, registers the configured clients, in Development seeds the demo
    /// user, makes sure the configured administrator is one (which may be the demo user) and that signing keys exist.
    /// Runs before the server accepts requests.
    /// </summary>
    public static async Task InitializeAuthServerAsync(this WebApplication app)
    {
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("AuthServer.Startup");
        await using (var scope = app.Services.CreateAsyncScope())
        {
            var services = scope.ServiceProvider;
            await AuthServerDatabase.MigrateAsync(services.GetRequiredService<AuthServerDbContext>());
            await services.GetRequiredService<ClientSeeder>().SeedAsync();
            if (app.Environment.IsDevelopment()) await SeedDemoUserAsync(services, logger);
            await AdminAccess.EnsureConfiguredAdminAsync(services, logger);
        }
        await app.Services.GetRequiredService<ClientStore>().ReloadAsync();
        await app.Services.GetRequiredService<SigningKeyStore>().InitializeAsync();
        app.Lifetime.ApplicationStarted.Register(ReturnStartupMemory);
    }

    /// <summary>
    /// Start-up allocates what no request uses again: the migrations' models and SQL, the model's building, the first
    /// compilation of each query, the configuration's parsing. An idle server makes no garbage that would trigger a
    /// collection, so that memory stayed resident for the life of the process, about 10 MB (docs/benchmarks.md). One
    /// full, compacting collection once the server listens returns it to the operating system; it runs once, before
    /// load, and costs a few milliseconds.
    /// </summary>
    private static void ReturnStartupMemory() =>
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);

    private static async Task SeedDemoUserAsync(IServiceProvider services, ILogger logger)
    {
        var demo = services.GetRequiredService<IOptions<DemoOptions>>().Value;
        if (string.IsNullOrEmpty(demo.Email) || string.IsNullOrEmpty(demo.Password)) return;

        var users = services.GetRequiredService<UserManager<ApplicationUser>>();
        if (await users.FindByEmailAsync(demo.Email) is null)
        {
            var user = new ApplicationUser { UserName = demo.Email, Email = demo.Email, EmailConfirmed = true, DisplayName = "Demo User" };
            var result = await users.CreateAsync(user, demo.Password);
            if (!result.Succeeded)
                throw new InvalidOperationException("Demo user: " + string.Join(" ", result.Errors.Select(e => e.Description)));
        }
        // Development only: the demo credentials are in appsettings.Development.json anyway.
        // The password stays out of the log like every other secret (docs/operations.md#logs); it is in Demo:Password.
        logger.LogWarning("Development demo user: {Email} (its password is Demo:Password in the configuration)", demo.Email);
    }
}
