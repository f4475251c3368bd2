using System.Net;
using AuthServer.Data;
using AuthServer.Tests.Data;
using AuthServer.Tests.Infrastructure;
using Microsoft.IdentityModel.JsonWebTokens;

namespace AuthServer.Tests.Pages.Admin;

/// <summary>The linked devices screen: every account's devices, filtered, and revoking one ends its tokens at once.</summary>
public abstract class AdminDevicesTests(AuthServerFactory factory)
{
    public sealed class OnSqlite(AuthServerFactory server) : AdminDevicesTests(server), IClassFixture<AuthServerFactory>;

    public sealed class OnPostgreSql(PostgreSqlAuthServerFactory server) : AdminDevicesTests(server), IClassFixture<PostgreSqlAuthServerFactory>;

    private static async Task<HttpStatusCode> UserinfoAsync(HttpClient http, string accessToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/connect/userinfo");
        request.Headers.Authorization = new("Bearer", accessToken);
        return (await http.SendAsync(request)).StatusCode;
    }

    [Fact]
    public async Task Devices_are_listed_for_every_account_and_filtered_by_account_and_client()
    {
        var tv = await factory.SignInDeviceAsync();
        var phone = await PhoneApp.SignInNewAccountAsync(factory);
        var tvId = new JsonWebToken(tv.Get("access_token")).GetClaim("device_id").Value;
        var admin = await AdminPages.AdminAsync(factory);

        var all = await admin.GetStringAsync("/admin/devices");
        var byAccount = await admin.GetStringAsync($"/admin/devices?user={Uri.EscapeDataString(phone.Email)}");
        var byClient = await admin.GetStringAsync("/admin/devices?client=demo-tv");
        var unknown = await admin.GetStringAsync("/admin/devices?user=nobody%40example.com");

        all.ShouldContain($"data-id=\"{tvId}\"");
        all.ShouldContain($"data-id=\"{phone.DeviceId}\"");
        byAccount.ShouldContain($"data-id=\"{phone.DeviceId}\"");
        byAccount.ShouldNotContain($"data-id=\"{tvId}\"");
        byClient.ShouldContain($"data-id=\"{tvId}\"");
        byClient.ShouldNotContain($"data-id=\"{phone.DeviceId}\"");
        AdminPages.TestId(unknown, "result").ShouldBe("No account has the email nobody@example.com.");
    }

    [Fact]
    public async Task Revoking_a_device_ends_its_refresh_and_access_tokens_at_once()
    {
        var tokens = await factory.SignInDeviceAsync();
        var deviceId = new JsonWebToken(tokens.Get("access_token")).GetClaim("device_id").Value;
        var http = factory.CreateClient();
        (await UserinfoAsync(http, tokens.Get("access_token"))).ShouldBe(HttpStatusCode.OK);
        var admin = await AdminPages.AdminAsync(factory, remoteIp: "192.0.2.77");

        var (response, html) = await admin.OpenAndSubmitAsync("/admin/devices", "/admin/devices?handler=Revoke", ("id", deviceId));

        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        AdminPages.TestId(html, "result").ShouldBe("Living room TV is logged out. Its tokens no longer work.");
        html.ShouldNotContain($"data-id=\"{deviceId}\"");
        (await UserinfoAsync(http, tokens.Get("access_token"))).ShouldBe(HttpStatusCode.Unauthorized);
        (await http.RefreshAsync(tokens.Get("refresh_token"))).Error.ShouldBe("invalid_grant");
        var introspection = await http.PostFormAsync("/connect/introspect", ("token", tokens.Get("access_token")),
            ("client_id", "api"), ("client_secret", "demo-api-secret-change-me-0123456789"));
        introspection.Json.GetProperty("active").GetBoolean().ShouldBeFalse();
        var revoked = (await AuditLogTests.EventsAsync(factory, e => e.Type == Audit.DeviceRevoked && e.Detail!.Contains(deviceId))).ShouldHaveSingleItem();
        revoked.ActorName.ShouldBe(AuthServerFactory.AdminEmail);
        revoked.Ip.ShouldBe("192.0.2.77");
        revoked.ClientId.ShouldBe("demo-tv");

        var again = await admin.SubmitAsync("/admin/devices?handler=Revoke", await admin.GetStringAsync("/admin/keys"), ("id", deviceId));
        AdminPages.TestId(await again.Content.ReadAsStringAsync(), "result").ShouldBe("That device was already logged out.");
    }
}
