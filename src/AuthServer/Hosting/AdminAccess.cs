using AuthServer.Data.Entities;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.Extensions.Options;

namespace AuthServer.Hosting;

/// <summary>The <c>Admin</c> configuration section: an administrator to make sure of at start-up.</summary>
public sealed class AdminOptions
{
    public const string Section = "Admin";

    /// <summary>The account that gets the <c>admin</c> role at start-up.</summary>
    public string? Email { get; set; }

    /// <summary>
    /// The password to create that account with when it does not exist yet; never used to change an existing one.
    /// No shipped file sets it outside Development: an operator supplies it (an environment variable, a secret store).
    /// </summary>
    public string? Password { get; set; }
}

/// <summary>
/// Who may use the admin pages (<c>/admin</c>, <c>Pages/Admin/</c>): accounts in the Identity role <c>admin</c>. Anyone
/// not signed in is sent to the sign-in page; a signed-in account without the role gets a 403 page.
/// </summary>
public static class AdminAccess
{
    public const string Role = "admin";
    public const string Policy = "admin";
    public const string PagesFolder = "/Admin";

    /// <summary>
    /// How soon a session learns that its account was signed out everywhere (its security stamp rotated): the
    /// cookie is checked against the account this often. Identity's default is 30 minutes.
    /// </summary>
    public static readonly TimeSpan SessionCheckInterval = TimeSpan.FromMinutes(1);

    public static WebApplicationBuilder AddAdminAccess(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<AdminOptions>().BindConfiguration(AdminOptions.Section);
        services.AddAuthorizationBuilder().AddPolicy(Policy, policy => policy.RequireAuthenticatedUser().RequireRole(Role));
        // Every page under Pages/Admin, present and future, needs the role: no page can forget its attribute. After
        // Razor Pages' own set-up, which replaces the convention collection, whichever is registered first.
        services.PostConfigure<RazorPagesOptions>(options => options.Conventions.AuthorizeFolder(PagesFolder, Policy));
        services.ConfigureApplicationCookie(options => options.Events.OnRedirectToAccessDenied = context =>
            ErrorPage.WriteAsync(context.HttpContext, StatusCodes.Status403Forbidden, "Not for this account",
                "This page is for administrators. Your account is signed in, but it does not have the admin role.",
                "An administrator can give an account the role on the Users page, or with the create-admin command."));
        services.AddOptions<SecurityStampValidatorOptions>().Configure<TimeProvider>((options, clock) =>
        {
            options.ValidationInterval = SessionCheckInterval;
            options.TimeProvider = clock;
        });
        return builder;
    }

    /// <summary>
    /// Makes sure the account in <c>Admin:Email</c> is an administrator: an existing account gets the role; a missing
    /// one is created with <c>Admin:Password</c>, or, without one, left to <c>create-admin</c>.
    /// </summary>
    public static async Task EnsureConfiguredAdminAsync(IServiceProvider services, ILogger logger)
    {
        var admin = services.GetRequiredService<IOptions<AdminOptions>>().Value;
        if (string.IsNullOrWhiteSpace(admin.Email)) return;
        var users = services.GetRequiredService<UserManager<ApplicationUser>>();
        if (await users.FindByEmailAsync(admin.Email) is null && string.IsNullOrEmpty(admin.Password))
        {
            logger.LogWarning("Admin:Email names {Email}, which has no account and no Admin:Password to create it with; use create-admin", admin.Email);
            return;
        }
        var errors = await EnsureAdminAsync(services, admin.Email, admin.Password ?? "");
        if (errors.Count > 0)
            throw new InvalidOperationException($"Admin: the account {admin.Email} could not be created: {string.Join(" ", errors)}");
    }

    /// <summary>
    /// Creates the account (user name = email, email confirmed) in the admin role, or adds an existing account to the
    /// role, in which case <paramref name="password"/> is ignored. Returns Identity's reasons when it refuses.
    /// </summary>
    public static async Task<IReadOnlyList<string>> EnsureAdminAsync(IServiceProvider services, string email, string password)
    {
        var users = services.GetRequiredService<UserManager<ApplicationUser>>();
        var roles = services.GetRequiredService<RoleManager<IdentityRole>>();
        if (!await roles.RoleExistsAsync(Role)) await roles.CreateAsync(new IdentityRole(Role));

        var user = await users.FindByEmailAsync(email);
        if (user is null)
        {
            user = new ApplicationUser { UserName = email, Email = email, EmailConfirmed = true };
            var created = await users.CreateAsync(user, password);
            if (!created.Succeeded) return [.. created.Errors.Select(e => e.Description)];
        }
        if (!await users.IsInRoleAsync(user, Role)) await users.AddToRoleAsync(user, Role);
        return [];
    }
}
