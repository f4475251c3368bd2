using System.Text.Json;
using AuthServer.Data;
using AuthServer.Tests.Data;
using AuthServer.Tests.Infrastructure;

namespace AuthServer.Tests.Pages.Admin;

/// <summary>The signing keys screen: states, dates, the schedule, and "rotate now".</summary>
public abstract class AdminKeysTests(AuthServerFactory factory)
{
    public sealed class OnSqlite(AuthServerFactory server) : AdminKeysTests(server), IClassFixture<AuthServerFactory>;

    public sealed class OnPostgreSql(PostgreSqlAuthServerFactory server) : AdminKeysTests(server), IClassFixture<PostgreSqlAuthServerFactory>;

    private static string Current(string html, string algorithm) => AdminPages.TestId(html, $"current-{algorithm}");

    [Fact]
    public async Task The_page_shows_each_algorithms_keys_and_the_next_scheduled_rotation()
    {
        var admin = await AdminPages.AdminAsync(factory);

        var page = await admin.GetStringAsync("/admin/keys");

        var jwks = JsonDocument.Parse(await factory.CreateClient().GetStringAsync("/.well-known/jwks")).RootElement.GetProperty("keys")
            .EnumerateArray().Select(k => k.GetProperty("kid").GetString()).ToList();
        jwks.ShouldContain(Current(page, "ES256"));
        jwks.ShouldContain(Current(page, "RS256"));
        // A first key signs for 30 days from the server's first start.
        page.ShouldContain((factory.Clock.GetUtcNow() + TimeSpan.FromDays(30)).ToString("yyyy-MM-dd HH:mm"));
        page.ShouldContain("data-status=\"Next\"");
    }

    [Fact]
    public async Task The_schedule_and_the_result_of_a_rotation_read_in_Chinese_for_a_Chinese_browser()
    {
        var admin = await AdminPages.AdminAsync(factory);
        admin.DefaultRequestHeaders.AcceptLanguage.ParseAdd("zh-CN");

        var before = await admin.GetStringAsync("/admin/keys");
        var after = await (await admin.SubmitAsync("/admin/keys?handler=Rotate", before)).Content.ReadAsStringAsync();

        // The durations are arguments, which Razor HTML-encodes (CJK as character references); a browser shows them as text.
        System.Net.WebUtility.HtmlDecode(before).ShouldContain("每个密钥签名 30 天");
        AdminPages.TestId(after, "result").ShouldStartWith("已轮换：ES256 现在使用");
    }

    [Fact]
    public async Task Rotate_now_makes_the_next_keys_sign_and_is_audited_with_the_admin()
    {
        var admin = await AdminPages.AdminAsync(factory);
        var before = await admin.GetStringAsync("/admin/keys");

        var response = await admin.SubmitAsync("/admin/keys?handler=Rotate", before);
        var after = await response.Content.ReadAsStringAsync();

        Current(after, "ES256").ShouldNotBe(Current(before, "ES256"));
        Current(after, "RS256").ShouldNotBe(Current(before, "RS256"));
        AdminPages.TestId(after, "result").ShouldStartWith("Rotated: ES256 now signs with");
        after.ShouldContain("data-status=\"Retired\"");
        var tokens = await factory.SignInDeviceAsync();
        new Microsoft.IdentityModel.JsonWebTokens.JsonWebToken(tokens.Get("access_token")).Kid.ShouldBe(Current(after, "ES256"));
        var rotations = await AuditLogTests.EventsAsync(factory, e => e.Type == Audit.SigningKeyRotated && e.ActorName == AuthServerFactory.AdminEmail);
        rotations.Count.ShouldBe(2);
        rotations.ShouldAllBe(e => e.Detail!.EndsWith("(rotate now)."));
    }
}
