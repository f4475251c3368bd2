using System.Net;
using AuthServer.Tests.Infrastructure;
using AuthServer.Tests.Pages;

namespace AuthServer.Tests.Pages.Admin;

/// <summary>
/// The admin pages are for the <c>admin</c> role only, at every URL and every handler, GET and POST, as the app's own
/// endpoint list has them (<see cref="AdminPages.RoutesAsync"/>): a page added later is covered without editing this.
/// </summary>
public abstract class AdminAccessTests(AuthServerFactory factory)
{
    public sealed class OnSqlite(AuthServerFactory server) : AdminAccessTests(server), IClassFixture<AuthServerFactory>;

    public sealed class OnPostgreSql(PostgreSqlAuthServerFactory server) : AdminAccessTests(server), IClassFixture<PostgreSqlAuthServerFactory>;

    private static readonly string[] Screens = ["/admin", "/admin/audit", "/admin/clients", "/admin/clients/new", "/admin/devices", "/admin/keys", "/admin/users", "/admin/users/new"];

    [Fact]
    public async Task The_enumeration_finds_every_screen_and_their_post_handlers()
    {
        var routes = await AdminPages.RoutesAsync(factory);

        Screens.Except(routes.Select(r => r.Url)).ShouldBeEmpty();
        string[] someHandlers =
        [
            "POST /admin/clients/new", "POST /admin/clients/edit/no-such-thing?handler=Save",
            "POST /admin/clients/edit/no-such-thing?handler=RotateSecret", "POST /admin/clients/edit/no-such-thing?handler=Delete",
            "POST /admin/users/new", "POST /admin/users/no-such-thing?handler=Lock", "POST /admin/users/no-such-thing?handler=SignOutEverywhere",
            "POST /admin/devices?handler=Revoke", "POST /admin/keys?handler=Rotate",
        ];
        someHandlers.Except(routes.Select(r => r.ToString())).ShouldBeEmpty();
        routes.ShouldAllBe(r => r.Page.StartsWith("/Admin/"));
    }

    [Fact]
    public async Task A_signed_in_non_admin_gets_a_403_page_at_every_admin_url_and_handler()
    {
        var routes = await AdminPages.RoutesAsync(factory);
        var browser = factory.CreateBrowser();
        await browser.SignInAsync();

        foreach (var route in routes)
        {
            var response = await browser.SendAsync(AdminPages.Request(route));
            var body = await response.Content.ReadAsStringAsync();

            response.StatusCode.ShouldBe(HttpStatusCode.Forbidden, route.ToString());
            body.ShouldContain("This page is for administrators", customMessage: route.ToString());
            response.Headers.GetValues("Content-Security-Policy").ShouldHaveSingleItem().ShouldContain("default-src 'self'");
        }
    }

    [Fact]
    public async Task Anonymous_visitors_are_sent_to_the_sign_in_page_from_every_admin_url_and_handler()
    {
        var routes = await AdminPages.RoutesAsync(factory);
        var browser = factory.CreateBrowser();

        foreach (var route in routes)
        {
            var response = await browser.SendAsync(AdminPages.Request(route));

            response.StatusCode.ShouldBe(HttpStatusCode.Redirect, route.ToString());
            response.Headers.Location!.ToString().ShouldContain("/Identity/Account/Login?ReturnUrl=", customMessage: route.ToString());
        }
    }

    [Fact]
    public async Task An_admin_post_without_the_antiforgery_token_is_refused_at_every_handler()
    {
        var routes = (await AdminPages.RoutesAsync(factory)).Where(r => r.Method != "GET").ToList();
        var admin = await AdminPages.AdminAsync(factory);

        foreach (var route in routes)
        {
            var response = await admin.SendAsync(AdminPages.Request(route));

            response.StatusCode.ShouldBe(HttpStatusCode.BadRequest, route.ToString());
        }
    }

    [Fact]
    public async Task Every_admin_page_carries_the_security_headers_and_no_inline_script()
    {
        var routes = (await AdminPages.RoutesAsync(factory)).Where(r => r is { Method: "GET", Handler: null }).ToList();
        var admin = await AdminPages.AdminAsync(factory);

        foreach (var route in routes)
        {
            var response = await admin.SendAsync(AdminPages.Request(route));
            var body = await response.Content.ReadAsStringAsync();

            // A page that names a client, a user or a device that does not exist says so on a page of its own.
            response.StatusCode.ShouldBeOneOf([HttpStatusCode.OK, HttpStatusCode.NotFound], route.ToString());
            body.ShouldContain("<h1>", customMessage: route.ToString());
            AdminPages.InlineScript().IsMatch(body).ShouldBeFalse(route.ToString());
            var policy = response.Headers.GetValues("Content-Security-Policy").ShouldHaveSingleItem();
            policy.ShouldContain("default-src 'self'");
            policy.ShouldContain("frame-ancestors 'none'");
            policy.ShouldNotContain("unsafe-inline");
            response.Headers.GetValues("Referrer-Policy").ShouldHaveSingleItem().ShouldBe("no-referrer");
            response.Headers.GetValues("X-Content-Type-Options").ShouldHaveSingleItem().ShouldBe("nosniff");
        }
        routes.Count.ShouldBeGreaterThanOrEqualTo(Screens.Length);
    }

    [Fact]
    public async Task The_dashboard_counts_todays_logins_and_failures_the_active_devices_and_the_waiting_requests()
    {
        using var fresh = AuthServerFactory.On(factory.Provider);
        await fresh.SignInDeviceAsync();                       // the demo user's password sign-in and one device login
        await Phone.Screen.StartAsync(fresh);                  // a screen still waiting
        await LoginTests.SubmitAsync(fresh.CreateBrowser(), AuthServerFactory.DemoEmail, "Wrong-Password-1");
        var admin = await AdminPages.AdminAsync(fresh);        // the admin's own sign-in

        var page = await admin.GetStringAsync("/admin");

        Stat(page, "logins-today").ShouldBe(3);
        page.ShouldContain("1 device logins approved, 2 password sign-ins");
        Stat(page, "active-devices").ShouldBe(1);
        Stat(page, "pending-requests").ShouldBe(1);
        Stat(page, "failures-today").ShouldBe(1);
        System.Text.RegularExpressions.Regex.IsMatch(page, "Sign-in failed</a></td>\\s*<td class=\"number\">1</td>").ShouldBeTrue();
    }

    private static int Stat(string page, string testId) =>
        int.Parse(System.Text.RegularExpressions.Regex.Match(page, $"data-testid=\"{testId}\"[^>]*>\\s*<span class=\"value\">(\\d+)<").Groups[1].Value);
}
