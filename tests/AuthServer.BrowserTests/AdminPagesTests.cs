using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.RegularExpressions;
using AuthServer.BrowserTests.Infrastructure;
using AuthServer.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;
using Answer = AuthServer.Tests.Infrastructure.Protocol.Answer;

namespace AuthServer.BrowserTests;

/// <summary>
/// Each admin screen's main path in real Chromium, as an administrator works it, with the protocol checked from a
/// device's side: the server runs on its fake clock, which a test moves instead of sleeping. With
/// <c>AUTHSERVER_DOCS_SCREENSHOTS</c> set, each screen is saved under <c>docs/images/</c> for docs/admin.md.
/// </summary>
public sealed partial class AdminPagesTests(BrowserFixture browser, LiveServer server) : BrowserTest(browser, server), IClassFixture<LiveServer>
{
    private readonly BrowserFixture _browser = browser;
    private readonly List<string> _problems = [];

    [Fact]
    public Task A_client_created_on_the_clients_screen_completes_a_device_login() => InBrowserAsync(async page =>
    {
        await SignInAsAdminAsync(page);
        await Expect(page.GetByTestId("active-devices")).ToBeVisibleAsync();
        await ScreenshotAsync(page, "dashboard");

        await page.GetByRole(AriaRole.Link, new() { Name = "Clients", Exact = true }).ClickAsync();
        await Expect(page.GetByTestId("clients")).ToContainTextAsync("demo-tv");
        await page.GetByTestId("new-client").ClickAsync();
        await page.Locator("[name='Input.ClientId']").FillAsync("lobby-tv");
        await page.Locator("[name='Input.DisplayName']").FillAsync("Lobby TV");
        await page.Locator("[name='Input.Scopes'][value='api']").CheckAsync();
        await page.Locator("[name='Input.NumberMatching'][type=checkbox]").CheckAsync();
        await ScreenshotAsync(page, "client-new");
        await page.GetByRole(AriaRole.Button, new() { Name = "Create client" }).ClickAsync();
        await Expect(page.GetByTestId("result")).ToHaveTextAsync("The client is registered and can be used now.");

        using var device = Server.CreateDevice();
        var started = await device.StartAsync("lobby-tv", Tests.Infrastructure.Protocol.DemoScopes, "Lobby screen");
        started.Status.ShouldBe(HttpStatusCode.OK, started.Json.ToString());
        await ApproveAsync(started, AuthServerFactory.DemoEmail, AuthServerFactory.DemoPassword, withNumber: true);
        Server.Clock.Advance(TimeSpan.FromSeconds(5));
        var tokens = await device.PollAsync(started.Get("device_code"), "lobby-tv");
        tokens.Status.ShouldBe(HttpStatusCode.OK, tokens.Json.ToString());
        tokens.Get("scope").Split(' ').ShouldContain("api");

        await page.GotoAsync("/admin/clients");
        await Expect(page.Locator("[data-testid=client][data-id='lobby-tv']")).ToContainTextAsync("Lobby TV");
        await ScreenshotAsync(page, "clients");
        ExpectNoProblems();
    });

    [Fact]
    public Task A_rotated_secret_works_beside_the_old_one_until_the_overlap_ends() => InBrowserAsync(async page =>
    {
        await SignInAsAdminAsync(page);
        await page.GotoAsync("/admin/clients/new");
        await page.Locator("[name='Input.ClientId']").FillAsync("report-service");
        await page.Locator("[name='Input.DisplayName']").FillAsync("Report service");
        await page.Locator("[name='Input.Type'][value='Confidential']").CheckAsync();
        foreach (var grant in new[] { Tests.Infrastructure.Protocol.DeviceGrant, "refresh_token" })
            await page.Locator($"[name='Input.GrantTypes'][value='{grant}']").UncheckAsync();
        await page.Locator("[name='Input.GrantTypes'][value='client_credentials']").CheckAsync();
        foreach (var scope in new[] { "openid", "profile", "offline_access" })
            await page.Locator($"[name='Input.Scopes'][value='{scope}']").UncheckAsync();
        await page.Locator("[name='Input.Scopes'][value='api']").CheckAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Create client" }).ClickAsync();
        var old = (await page.GetByTestId("secret").TextContentAsync())!.Trim();
        using var service = Server.CreateDevice();
        (await service.ClientCredentialsAsync("report-service", old)).Status.ShouldBe(HttpStatusCode.OK);

        await page.GetByRole(AriaRole.Link, new() { Name = "Open the client" }).ClickAsync();
        await page.Locator("[name='Overlap']").FillAsync("01:00:00");
        await page.GetByTestId("rotate-secret").ClickAsync();
        await Expect(page.GetByTestId("result")).ToContainTextAsync("The previous one keeps working until");
        var fresh = (await page.GetByTestId("secret").TextContentAsync())!.Trim();
        fresh.ShouldNotBe(old);
        await Expect(page.GetByTestId("secret-row")).ToHaveCountAsync(2);
        await ScreenshotAsync(page, "client-secret-rotated");

        (await service.ClientCredentialsAsync("report-service", old)).Status.ShouldBe(HttpStatusCode.OK);
        (await service.ClientCredentialsAsync("report-service", fresh)).Status.ShouldBe(HttpStatusCode.OK);
        Server.Clock.Advance(TimeSpan.FromHours(1));
        (await service.ClientCredentialsAsync("report-service", old)).Error.ShouldBe("invalid_client");
        (await service.ClientCredentialsAsync("report-service", fresh)).Status.ShouldBe(HttpStatusCode.OK);
        await page.GotoAsync("/admin/clients/edit/report-service");
        await Expect(page.GetByTestId("secret-row")).ToHaveCountAsync(1);
        ExpectNoProblems();
    });

    [Fact]
    public Task Locking_a_user_on_the_users_screen_refuses_that_users_next_grant() => InBrowserAsync(async page =>
    {
        var (email, password) = await NewAccountAsync("sam.lee@example.com");
        using var device = Server.CreateDevice();
        var tokens = await SignInDeviceAsync(device, email, password, "Bedroom TV");

        await SignInAsAdminAsync(page);
        await page.GetByRole(AriaRole.Link, new() { Name = "Users", Exact = true }).ClickAsync();
        await page.Locator("[name='q']").FillAsync("sam.lee");
        await page.GetByRole(AriaRole.Button, new() { Name = "Search" }).ClickAsync();
        await Expect(page.GetByTestId("user")).ToHaveCountAsync(1);
        await ScreenshotAsync(page, "users");
        await page.GetByRole(AriaRole.Link, new() { Name = email }).ClickAsync();
        await Expect(page.GetByTestId("device")).ToContainTextAsync("Bedroom TV");
        await ScreenshotAsync(page, "user");
        await page.GetByTestId("lock").ClickAsync();
        await Expect(page.GetByTestId("result")).ToHaveTextAsync("The account is locked. Its devices' next token requests are refused.");
        await Expect(page.GetByTestId("state")).ToContainTextAsync("until an admin unlocks it");

        var refused = await device.RefreshAsync(tokens.Get("refresh_token"));
        refused.Error.ShouldBe("invalid_grant");
        ExpectNoProblems();
    });

    [Fact]
    public Task Revoking_a_device_on_the_devices_screen_stops_its_token_at_once() => InBrowserAsync(async page =>
    {
        var (email, password) = await NewAccountAsync("robin@example.com");
        using var device = Server.CreateDevice();
        var tokens = await SignInDeviceAsync(device, email, password, "Garage TV");
        (await UserinfoAsync(device, tokens.Get("access_token"))).ShouldBe(HttpStatusCode.OK);

        await SignInAsAdminAsync(page);
        await page.GetByRole(AriaRole.Link, new() { Name = "Linked devices", Exact = true }).Last.ClickAsync();
        await page.Locator("[name='user']").FillAsync(email);
        await page.Locator("[name='client']").SelectOptionAsync("demo-tv");
        await page.GetByRole(AriaRole.Button, new() { Name = "Filter" }).ClickAsync();
        var row = page.GetByTestId("device");
        await Expect(row).ToHaveCountAsync(1);
        await Expect(row).ToContainTextAsync("Garage TV");
        await ScreenshotAsync(page, "devices");
        await row.GetByRole(AriaRole.Button, new() { Name = "Revoke" }).ClickAsync();
        await Expect(page.GetByTestId("result")).ToHaveTextAsync("Garage TV is logged out. Its tokens no longer work.");

        (await UserinfoAsync(device, tokens.Get("access_token"))).ShouldBe(HttpStatusCode.Unauthorized);
        (await device.RefreshAsync(tokens.Get("refresh_token"))).Error.ShouldBe("invalid_grant");
        ExpectNoProblems();
    });

    [Fact]
    public Task The_audit_log_filtered_by_type_and_admin_shows_the_change_just_made() => InBrowserAsync(async page =>
    {
        await SignInAsAdminAsync(page);
        await page.GotoAsync("/admin/clients/edit/demo-tv");
        await page.GetByTestId("disable").ClickAsync();
        await Expect(page.GetByTestId("result")).ToContainTextAsync("Disabled.");
        await page.GetByTestId("enable").ClickAsync();
        await Expect(page.GetByTestId("result")).ToHaveTextAsync("Enabled.");

        await page.GetByRole(AriaRole.Link, new() { Name = "Audit log", Exact = true }).ClickAsync();
        await page.Locator("[name='type']").SelectOptionAsync(AuthServer.Data.Audit.ClientDisabled);
        await page.Locator("[name='actor']").FillAsync(AuthServerFactory.AdminEmail);
        await page.Locator("[name='client']").FillAsync("demo-tv");
        await page.GetByRole(AriaRole.Button, new() { Name = "Filter" }).ClickAsync();

        var events = page.GetByTestId("audit-event");
        await Expect(events).ToHaveCountAsync(1);
        await Expect(events).ToContainTextAsync("Admin: client disabled");
        await Expect(events).ToContainTextAsync(AuthServerFactory.AdminEmail);
        await Expect(events).ToContainTextAsync("127.0.0.1");
        await Expect(page).ToHaveURLAsync(new Regex($"type={Regex.Escape(AuthServer.Data.Audit.ClientDisabled)}"));
        await ScreenshotAsync(page, "audit");
        ExpectNoProblems();
    });

    [Fact]
    public Task Rotate_now_on_the_keys_screen_makes_the_next_key_sign() => InBrowserAsync(async page =>
    {
        await SignInAsAdminAsync(page);
        await page.GetByRole(AriaRole.Link, new() { Name = "Signing keys", Exact = true }).ClickAsync();
        var before = (await page.GetByTestId("current-ES256").TextContentAsync())!.Trim();
        await ScreenshotAsync(page, "keys");

        await page.GetByTestId("rotate").ClickAsync();

        await Expect(page.GetByTestId("result")).ToContainTextAsync("Rotated: ES256 now signs with");
        await Expect(page.GetByTestId("current-ES256")).Not.ToHaveTextAsync(before);
        var after = (await page.GetByTestId("current-ES256").TextContentAsync())!.Trim();
        using var device = Server.CreateDevice();
        var tokens = await SignInDeviceAsync(device, AuthServerFactory.DemoEmail, AuthServerFactory.DemoPassword, "Office TV");
        new Microsoft.IdentityModel.JsonWebTokens.JsonWebToken(tokens.Get("access_token")).Kid.ShouldBe(after);
        ExpectNoProblems();
    });

    [Fact]
    public Task A_signed_in_account_without_the_admin_role_gets_the_403_page() => InBrowserAsync(async page =>
    {
        await page.GotoAsync("/admin/users");
        await Expect(page).ToHaveURLAsync(new Regex("/Identity/Account/Login\\?ReturnUrl=%2Fadmin%2Fusers"));
        await FillSignInAsync(page, AuthServerFactory.DemoEmail, AuthServerFactory.DemoPassword);
        // The sign-in's own navigation back to the page ends first: reloading during it races the browser.
        await Expect(page).ToHaveURLAsync(new Regex("/admin/users$"));

        var response = await page.ReloadAsync();
        response!.Status.ShouldBe(403);
        await Expect(page.Locator("h1")).ToHaveTextAsync("Not for this account");
        await Expect(page.GetByTestId("result")).ToContainTextAsync("This page is for administrators");
    });

    /// <summary>Signs in through the real sign-in page, to which /admin sends an anonymous visitor.</summary>
    private async Task SignInAsAdminAsync(IPage page)
    {
        TrackProblems(page);
        await page.GotoAsync("/admin");
        await Expect(page).ToHaveURLAsync(new Regex("/Identity/Account/Login\\?ReturnUrl=%2Fadmin"));
        await FillSignInAsync(page, AuthServerFactory.AdminEmail, AuthServerFactory.AdminPassword);
        await Expect(page.Locator("h1")).ToHaveTextAsync("Dashboard");
    }

    /// <summary>An account of the test's own, so that what it changes touches no other test.</summary>
    private async Task<(string Email, string Password)> NewAccountAsync(string email)
    {
        const string password = "Browser-Password-1";
        await using var scope = Server.Factory.Services.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<Microsoft.AspNetCore.Identity.UserManager<AuthServer.Data.Entities.ApplicationUser>>();
        (await users.CreateAsync(new() { UserName = email, Email = email, EmailConfirmed = true }, password)).Succeeded.ShouldBeTrue();
        return (email, password);
    }

    private static async Task FillSignInAsync(IPage page, string email, string password)
    {
        // The password form's own button: the header's language switch is a form too.
        var form = page.Locator("form", new() { Has = page.Locator("[name='Input.Email']") });
        await form.Locator("[name='Input.Email']").FillAsync(email);
        await form.Locator("[name='Input.Password']").FillAsync(password);
        await form.Locator("button[type=submit]").ClickAsync();
    }

    /// <summary>Starts a demo-tv login and approves it in a browser of its own as the given account; returns the tokens.</summary>
    private async Task<Answer> SignInDeviceAsync(HttpClient device, string email, string password, string deviceName)
    {
        var started = await device.StartAsync(deviceName: deviceName);
        await ApproveAsync(started, email, password, withNumber: false);
        Server.Clock.Advance(TimeSpan.FromSeconds(5));
        var tokens = await device.PollAsync(started.Get("device_code"));
        tokens.Status.ShouldBe(HttpStatusCode.OK, tokens.Json.ToString());
        return tokens;
    }

    /// <summary>The phone's side, in a browser context of its own: the link the QR code carries, sign-in, approve.</summary>
    private async Task ApproveAsync(Answer started, string email, string password, bool withNumber)
    {
        await using var phone = await _browser.NewContextAsync(Server.BaseAddress);
        var page = await phone.NewPageAsync();
        await page.GotoAsync(started.Get("verification_uri_complete"));
        await FillSignInAsync(page, email, password);
        await Expect(page.GetByTestId("user-code")).ToHaveTextAsync(started.Get("user_code"));
        if (withNumber)
        {
            // The screen shows its number once the request is scanned; the phone picks it among three.
            var number = await ScreenNumberAsync(started);
            await page.GetByRole(AriaRole.Button, new() { Name = number.ToString(System.Globalization.CultureInfo.InvariantCulture), Exact = true }).ClickAsync();
        }
        else
        {
            await page.GetByRole(AriaRole.Button, new() { Name = "Approve", Exact = true }).ClickAsync();
        }
        await Expect(page.GetByTestId("result")).ToContainTextAsync("is now signed in");
    }

    /// <summary>The number a number-matching screen shows, from its push stream.</summary>
    private async Task<int> ScreenNumberAsync(Answer started)
    {
        using var http = Server.CreateDevice();
        using var stream = await EventStream.OpenAsync(http, started.Get("device_code"), clientId: "lobby-tv");
        return (await stream.ExpectEventAsync("scanned", id: 1)).Number.ShouldNotBeNull();
    }

    private static async Task<HttpStatusCode> UserinfoAsync(HttpClient http, string accessToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/connect/userinfo");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", accessToken);
        return (await http.SendAsync(request)).StatusCode;
    }

    /// <summary>What the browser complained about: a CSP violation or a script error shows here.</summary>
    private void TrackProblems(IPage page)
    {
        page.Console += (_, message) => { if (message.Type == "error") lock (_problems) _problems.Add(message.Text); };
        page.PageError += (_, error) => { lock (_problems) _problems.Add(error); };
    }

    private void ExpectNoProblems()
    {
        lock (_problems) _problems.ShouldBeEmpty();
    }

    /// <summary>Saves the screen for docs/admin.md when <c>AUTHSERVER_DOCS_SCREENSHOTS</c> is set.</summary>
    private static async Task ScreenshotAsync(IPage page, string name)
    {
        if (Environment.GetEnvironmentVariable("AUTHSERVER_DOCS_SCREENSHOTS") is not { Length: > 0 }) return;
        await page.ScreenshotAsync(new() { Path = Path.Combine(RepositoryRoot.Path, "docs", "images", $"admin-{name}.png"), FullPage = true });
    }
}
