using System.Net;
using AuthServer.Data;
using AuthServer.Data.Entities;
using AuthServer.Tests.Data;
using AuthServer.Tests.Infrastructure;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.DependencyInjection;

namespace AuthServer.Tests.Pages.Admin;

/// <summary>The users screen over HTTP: accounts, lockout, roles and ending every session of an account.</summary>
public abstract class AdminUsersTests(AuthServerFactory factory)
{
    public sealed class OnSqlite(AuthServerFactory server) : AdminUsersTests(server), IClassFixture<AuthServerFactory>;

    public sealed class OnPostgreSql(PostgreSqlAuthServerFactory server) : AdminUsersTests(server), IClassFixture<PostgreSqlAuthServerFactory>;

    private async Task<string> UserIdAsync(string email)
    {
        await using var scope = factory.Services.CreateAsyncScope();
        return (await scope.ServiceProvider.GetRequiredService<UserManager<ApplicationUser>>().FindByEmailAsync(email))!.Id;
    }

    /// <summary>A fresh account with one device signed in through the verification page.</summary>
    private async Task<(string Email, string Password, string UserId, Infrastructure.Protocol.Answer Tokens)> AccountWithDeviceAsync()
    {
        var account = await PhoneApp.NewAccountAsync(factory, "admin-users");
        var device = factory.CreateClient();
        var started = await device.StartAsync();
        var phone = factory.CreateBrowser();
        await phone.SignInAsync(account);
        await phone.ScanAndDecideAsync(started.Get("user_code"), approve: true);
        var tokens = await device.PollAsync(started.Get("device_code"));
        tokens.Status.ShouldBe(HttpStatusCode.OK);
        return (account.Email, account.Password, await UserIdAsync(account.Email), tokens);
    }

    private async Task<string> PostAsync(HttpClient admin, string userId, string handler, params (string, string)[] form)
    {
        // As a browser does, the roles form posts the account's concurrency stamp it was filled in with.
        var page = await admin.GetStringAsync($"/admin/users/{userId}");
        var response = await admin.SubmitAsync($"/admin/users/{userId}?handler={handler}", page, [.. form, ("ConcurrencyStamp", StampOf(page))]);
        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        return await response.Content.ReadAsStringAsync();
    }

    public static string StampOf(string page) =>
        System.Net.WebUtility.HtmlDecode(System.Text.RegularExpressions.Regex.Match(page, "name=\"ConcurrencyStamp\" value=\"([^\"]*)\"").Groups[1].Value);

    [Fact]
    public async Task Search_finds_accounts_by_email_or_name()
    {
        var admin = await AdminPages.AdminAsync(factory);

        // The page's main part only: the header names the signed-in administrator.
        static string Main(string html) => html[html.IndexOf("<main", StringComparison.Ordinal)..];
        var byEmail = Main(await admin.GetStringAsync("/admin/users?q=demo@"));
        var byName = await admin.GetStringAsync("/admin/users?q=Demo%20User");
        // Case does not matter, on either provider.
        var byOtherCase = Main(await admin.GetStringAsync("/admin/users?q=DEMO@EXAMPLE"));
        var none = await admin.GetStringAsync("/admin/users?q=nobody-at-all");

        byEmail.ShouldContain(AuthServerFactory.DemoEmail);
        byEmail.ShouldNotContain(AuthServerFactory.AdminEmail);
        byName.ShouldContain(AuthServerFactory.DemoEmail);
        byOtherCase.ShouldContain(AuthServerFactory.DemoEmail);
        byOtherCase.ShouldNotContain(AuthServerFactory.AdminEmail);
        AdminPages.TestId(none, "result").ShouldBe("No account matches.");
    }

    [Fact]
    public async Task Creating_a_user_shows_identitys_refusal_at_the_field_then_creates_the_account_with_its_roles()
    {
        var admin = await AdminPages.AdminAsync(factory);
        var email = $"new-{Guid.NewGuid():N}@example.com";

        var (_, refused) = await admin.OpenAndSubmitAsync("/admin/users/new", "/admin/users/new",
            ("Input.Email", email), ("Input.Password", "short"), ("Input.Roles", "admin"));
        var (created, _) = await admin.OpenAndSubmitAsync("/admin/users/new", "/admin/users/new",
            ("Input.Email", email), ("Input.DisplayName", "New Person"), ("Input.Password", "New-Password-123"), ("Input.Roles", "admin"));

        AdminPages.FieldError(refused, "Input.Password").ShouldContain("at least 10 characters");
        created.StatusCode.ShouldBe(HttpStatusCode.Redirect);
        var userId = await UserIdAsync(email);
        created.Headers.Location!.ToString().ShouldBe($"/admin/users/{userId}?created=true");
        var page = await admin.GetStringAsync(created.Headers.Location.ToString());
        AdminPages.TestId(page, "result").ShouldBe($"{email} was created.");
        page.ShouldContain("<dt>Roles</dt><dd>admin</dd>");
        var browser = factory.CreateBrowser();
        await browser.SignInAsync(email, "New-Password-123");
        (await browser.GetAsync("/admin")).StatusCode.ShouldBe(HttpStatusCode.OK);
        (await AuditLogTests.EventsAsync(factory, e => e.Type == Audit.UserCreated && e.UserId == userId))
            .ShouldHaveSingleItem().Detail.ShouldBe($"Created {email} with the roles admin.");
    }

    [Fact]
    public async Task Locking_a_user_refuses_their_next_grant_and_unlocking_allows_it_again()
    {
        var (_, _, userId, tokens) = await AccountWithDeviceAsync();
        var admin = await AdminPages.AdminAsync(factory);

        var locked = await PostAsync(admin, userId, "Lock");
        AdminPages.TestId(locked, "result").ShouldStartWith("The account is locked.");
        (await factory.CreateClient().RefreshAsync(tokens.Get("refresh_token"))).Error.ShouldBe("invalid_grant");

        var unlocked = await PostAsync(admin, userId, "Unlock");
        AdminPages.TestId(unlocked, "result").ShouldBe("The account is unlocked.");
        (await factory.CreateClient().RefreshAsync(tokens.Get("refresh_token"))).Status.ShouldBe(HttpStatusCode.OK);
        (await AuditLogTests.EventsAsync(factory, e => e.UserId == userId && e.Type.StartsWith("admin.")))
            .Select(e => (e.Type, e.ActorName)).ShouldBe([(Audit.UserLocked, AuthServerFactory.AdminEmail), (Audit.UserUnlocked, AuthServerFactory.AdminEmail)]);
    }

    [Fact]
    public async Task Resetting_failed_sign_ins_gives_the_account_its_attempts_back()
    {
        var (email, password, userId, _) = await AccountWithDeviceAsync();
        for (var i = 0; i < 4; i++) await LoginTests.SubmitAsync(factory.CreateBrowser(), email, "Wrong-Password-1");
        var admin = await AdminPages.AdminAsync(factory);
        (await admin.GetStringAsync($"/admin/users/{userId}")).ShouldContain("4 failed sign-ins");

        var reset = await PostAsync(admin, userId, "ResetLockout");

        AdminPages.TestId(reset, "result").ShouldStartWith("The failed sign-ins are reset");
        // Four more wrong passwords would have locked it without the reset; now a fifth still signs in.
        for (var i = 0; i < 4; i++) await LoginTests.SubmitAsync(factory.CreateBrowser(), email, "Wrong-Password-1");
        await factory.CreateBrowser().SignInAsync(email, password);
    }

    [Fact]
    public async Task Roles_are_assigned_created_and_removed_but_an_admin_keeps_their_own()
    {
        var (_, _, userId, _) = await AccountWithDeviceAsync();
        var admin = await AdminPages.AdminAsync(factory);
        var adminId = await UserIdAsync(AuthServerFactory.AdminEmail);

        var added = await PostAsync(admin, userId, "Roles", ("roleNames", "admin"), ("newRole", "support"));
        var removed = await PostAsync(admin, userId, "Roles", ("roleNames", "support"));
        var own = await PostAsync(admin, adminId, "Roles");

        added.ShouldContain("<dt>Roles</dt><dd>admin, support</dd>");
        removed.ShouldContain("<dt>Roles</dt><dd>support</dd>");
        AdminPages.TestId(own, "result").ShouldBe("You cannot take the admin role from your own account; another admin can.");
        (await admin.GetAsync("/admin")).StatusCode.ShouldBe(HttpStatusCode.OK);
        (await AuditLogTests.EventsAsync(factory, e => e.UserId == userId && e.Type == Audit.UserRolesChanged)).Select(e => e.Detail)
            .ShouldBe([$"{await EmailAsync(userId)}: added admin, support; removed none.", $"{await EmailAsync(userId)}: added none; removed admin."]);
    }

    [Fact]
    public async Task Signing_out_everywhere_ends_every_device_at_once_and_the_browser_session_at_its_next_check()
    {
        var (email, password, userId, tokens) = await AccountWithDeviceAsync();
        var session = factory.CreateBrowser();
        await session.SignInAsync(email, password);
        var admin = await AdminPages.AdminAsync(factory);
        (await admin.GetStringAsync($"/admin/users/{userId}")).ShouldContain("data-testid=\"device\"");

        var done = await PostAsync(admin, userId, "SignOutEverywhere");

        AdminPages.TestId(done, "result").ShouldStartWith("Signed out everywhere");
        done.ShouldContain("No device is signed in to this account.");
        (await factory.CreateClient().RefreshAsync(tokens.Get("refresh_token"))).Error.ShouldBe("invalid_grant");
        using (var userinfo = new HttpRequestMessage(HttpMethod.Get, "/connect/userinfo"))
        {
            userinfo.Headers.Authorization = new("Bearer", tokens.Get("access_token"));
            (await factory.CreateClient().SendAsync(userinfo)).StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
        }
        factory.Clock.Advance(AuthServer.Hosting.AdminAccess.SessionCheckInterval + TimeSpan.FromSeconds(1));
        (await session.IsSignedInAsync()).ShouldBeFalse();
        var events = await AuditLogTests.EventsAsync(factory, e => e.UserId == userId && e.Type is Audit.UserSignedOutEverywhere or Audit.LinkedDeviceEnded);
        events.Select(e => e.Type).ShouldBe([Audit.LinkedDeviceEnded, Audit.UserSignedOutEverywhere]);
        events.ShouldAllBe(e => e.ActorName == AuthServerFactory.AdminEmail);
    }

    [Fact]
    public async Task An_admin_cannot_lock_their_own_account()
    {
        var admin = await AdminPages.AdminAsync(factory);
        var adminId = await UserIdAsync(AuthServerFactory.AdminEmail);

        var page = await admin.GetStringAsync($"/admin/users/{adminId}");
        var refused = await admin.SubmitAsync($"/admin/users/{adminId}?handler=Lock", page);

        page.ShouldNotContain("data-testid=\"lock\"");
        AdminPages.TestId(await refused.Content.ReadAsStringAsync(), "result").ShouldBe("You cannot lock your own account.");
        (await admin.GetAsync("/admin")).StatusCode.ShouldBe(HttpStatusCode.OK);
    }

    private async Task<string> EmailAsync(string userId)
    {
        await using var scope = factory.Services.CreateAsyncScope();
        return (await scope.ServiceProvider.GetRequiredService<UserManager<ApplicationUser>>().FindByIdAsync(userId))!.Email!;
    }
}
