using System.Net;
using System.Text.RegularExpressions;
using AuthServer.Data;
using AuthServer.Data.Entities;
using AuthServer.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace AuthServer.Tests.Pages.Admin;

/// <summary>The audit log screen: filters, paging, and bad filter input shown on the page.</summary>
public abstract partial class AdminAuditTests(AuthServerFactory factory)
{
    public sealed class OnSqlite(AuthServerFactory server) : AdminAuditTests(server), IClassFixture<AuthServerFactory>;

    public sealed class OnPostgreSql(PostgreSqlAuthServerFactory server) : AdminAuditTests(server), IClassFixture<PostgreSqlAuthServerFactory>;

    private static List<string> Types(string html) => [.. EventType().Matches(html).Select(m => m.Groups[1].Value)];

    [GeneratedRegex("data-testid=\"audit-event\" data-type=\"([^\"]+)\"")]
    private static partial Regex EventType();

    private static string OlderLink(string html)
    {
        var link = WebUtility.HtmlDecode(Regex.Match(Regex.Match(html, "<a [^>]*data-testid=\"older\"[^>]*>").Value, "href=\"([^\"]+)\"").Groups[1].Value);
        link.ShouldStartWith("/admin/audit?");
        return link;
    }

    [Fact]
    public async Task Filters_narrow_the_log_to_one_type_account_client_actor_address_and_day()
    {
        var tokens = await factory.SignInDeviceAsync();
        var deviceId = new Microsoft.IdentityModel.JsonWebTokens.JsonWebToken(tokens.Get("access_token")).GetClaim("device_id").Value;
        var admin = await AdminPages.AdminAsync(factory, remoteIp: "198.51.100.5");
        await admin.OpenAndSubmitAsync("/admin/devices", "/admin/devices?handler=Revoke", ("id", deviceId));
        var today = factory.Clock.GetUtcNow().ToString("yyyy-MM-dd");
        var tomorrow = factory.Clock.GetUtcNow().AddDays(1).ToString("yyyy-MM-dd");

        var byType = await admin.GetStringAsync($"/admin/audit?type={Audit.DeviceRevoked}");
        var byClientAndActor = await admin.GetStringAsync($"/admin/audit?client=demo-tv&actor={Uri.EscapeDataString(AuthServerFactory.AdminEmail)}&ip=198.51.100.");
        var byAccount = await admin.GetStringAsync($"/admin/audit?user={Uri.EscapeDataString(AuthServerFactory.AdminEmail)}&type={Audit.SignInSucceeded}");
        var onTheDay = await admin.GetStringAsync($"/admin/audit?from={today}&to={today}&type={Audit.DeviceRevoked}");
        var later = await admin.GetStringAsync($"/admin/audit?from={tomorrow}");

        Types(byType).ShouldAllBe(t => t == Audit.DeviceRevoked);
        byType.ShouldContain(deviceId);
        // The admin's revocation, and the device's end it caused, both made by the admin from that address.
        Types(byClientAndActor).ShouldBe([Audit.DeviceRevoked, Audit.LinkedDeviceEnded]);
        byClientAndActor.ShouldContain($"({deviceId}) revoked by an admin");
        Types(byAccount).ShouldNotBeEmpty();
        Types(byAccount).ShouldAllBe(t => t == Audit.SignInSucceeded);
        Types(onTheDay).ShouldNotBeEmpty();
        AdminPages.TestId(later, "result").ShouldBe("No event matches.");
    }

    [Fact]
    public async Task The_log_is_paged_newest_first_and_every_page_can_be_reached()
    {
        using var fresh = AuthServerFactory.On(factory.Provider);
        await using (var scope = fresh.Services.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<AuthServerDbContext>();
            for (var i = 0; i < 120; i++)
                db.AuditEvents.Add(new AuditEvent { Type = Audit.TokenIssued, At = fresh.Clock.GetUtcNow(), Detail = $"paging event {i:000}" });
            await db.SaveChangesAsync();
        }
        var admin = await AdminPages.AdminAsync(fresh);

        var first = await admin.GetStringAsync($"/admin/audit?type={Audit.TokenIssued}");
        var second = await admin.GetStringAsync(OlderLink(first));
        var last = await admin.GetStringAsync(OlderLink(second));

        Types(first).Count.ShouldBe(50);
        first.ShouldContain("paging event 119");
        first.ShouldContain("paging event 070");
        second.ShouldContain("paging event 069");
        second.ShouldContain("paging event 020");
        Types(last).Count.ShouldBe(20);
        last.ShouldContain("paging event 000");
        last.ShouldNotContain("data-testid=\"older\"");
        second.ShouldContain(">Newer</a>");
    }

    [Fact]
    public async Task A_bad_filter_is_explained_on_the_page()
    {
        var admin = await AdminPages.AdminAsync(factory);

        var unknownType = await admin.GetAsync("/admin/audit?type=no.such.event");
        var badDate = await admin.GetStringAsync("/admin/audit?from=yesterday");
        var backwards = await admin.GetStringAsync("/admin/audit?from=2030-01-02&to=2030-01-01");

        unknownType.StatusCode.ShouldBe(HttpStatusCode.OK);
        AdminPages.FieldError(await unknownType.Content.ReadAsStringAsync(), "Type").ShouldBe("'no.such.event' is not an event type.");
        AdminPages.FieldError(badDate, "From").ShouldNotBeEmpty();
        AdminPages.FieldError(backwards, "To").ShouldBe("The end date is before the start date.");
    }
}
