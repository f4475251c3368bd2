using System.Net;
using System.Text.Json;
using AuthServer.Data.Entities;
using AuthServer.Hosting;
using AuthServer.Tests.Infrastructure;
using AuthServer.Tests.Pages.Admin;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.DependencyInjection;

namespace AuthServer.Tests.Hosting;

/// <summary>Where the first administrator comes from: create-admin, or the Admin section; never a shipped password.</summary>
public sealed class FirstAdminTests
{
    private static async Task<bool> IsAdminAsync(AuthServerFactory factory, string email)
    {
        await using var scope = factory.Services.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<ApplicationUser>>();
        return await users.FindByEmailAsync(email) is { } user && await users.IsInRoleAsync(user, AdminAccess.Role);
    }

    [Fact]
    public void The_operators_configuration_ships_no_administrator_and_no_password()
    {
        var root = Path.GetDirectoryName(typeof(FirstAdminTests).Assembly.Location)!;
        using var settings = JsonDocument.Parse(File.ReadAllText(Path.Combine(root, "appsettings.json")));

        settings.RootElement.TryGetProperty(AdminOptions.Section, out _).ShouldBeFalse();
        File.ReadAllText(Path.Combine(root, "appsettings.json")).ShouldNotContain("Password");
    }

    [Fact]
    public async Task Outside_development_no_account_exists_until_one_is_made()
    {
        using var factory = new ProductionFactory();

        (await IsAdminAsync(factory, AuthServerFactory.AdminEmail)).ShouldBeFalse();
        await using var scope = factory.Services.CreateAsyncScope();
        scope.ServiceProvider.GetRequiredService<UserManager<ApplicationUser>>().Users.Count().ShouldBe(0);
    }

    [Fact]
    public async Task Create_admin_makes_an_account_that_can_open_the_admin_pages()
    {
        using var factory = new AuthServerFactory();

        (await AdminCommands.CreateAdminAsync(factory.Services, "ops@example.com", "Ops-Password-123")).ShouldBe(0);
        (await AdminCommands.CreateAdminAsync(factory.Services, "weak@example.com", "weak")).ShouldBe(1);

        var browser = factory.CreateBrowser();
        await browser.SignInAsync("ops@example.com", "Ops-Password-123");
        var response = await browser.GetAsync("/admin");
        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        (await response.Content.ReadAsStringAsync()).ShouldContain("<h1>Dashboard</h1>");
    }

    [Fact]
    public async Task The_admin_section_creates_the_account_once_and_promotes_an_existing_one_without_touching_its_password()
    {
        using (var created = AuthServerFactory.With(new() { ["Admin:Email"] = "config-admin@example.com", ["Admin:Password"] = "Config-Password-1" }))
            (await IsAdminAsync(created, "config-admin@example.com")).ShouldBeTrue();

        using var promoted = AuthServerFactory.With(new() { ["Admin:Email"] = AuthServerFactory.DemoEmail, ["Admin:Password"] = "Another-Password-1" });
        (await IsAdminAsync(promoted, AuthServerFactory.DemoEmail)).ShouldBeTrue();
        var browser = promoted.CreateBrowser();
        await browser.SignInAsync(); // still the demo password
        (await browser.GetAsync("/admin")).StatusCode.ShouldBe(HttpStatusCode.OK);
    }

    [Fact]
    public void A_password_identity_refuses_stops_start_up_with_a_message()
    {
        using var factory = AuthServerFactory.With(new() { ["Admin:Email"] = "weak-admin@example.com", ["Admin:Password"] = "weak" });

        var failure = Should.Throw<Exception>(() => factory.CreateClient());

        failure.ToString().ShouldContain("Admin: the account weak-admin@example.com could not be created");
    }

    /// <summary>The server as it runs in production: no Development settings, so no demo user and no administrator.</summary>
    private sealed class ProductionFactory : AuthServerFactory
    {
        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            base.ConfigureWebHost(builder);
            builder.UseEnvironment("Production");
            builder.UseSetting("AuthServer:Issuer", "https://login.example.com");
        }
    }
}
