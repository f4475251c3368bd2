using System.Net;
using System.Text.Json;
using AuthServer.Tests.Infrastructure;

namespace AuthServer.Tests.Phone;

/// <summary>What the phone app needs to put the confirm screen and its errors in plain words.</summary>
public sealed class ScanDetailsTests(AuthServerFactory factory) : IClassFixture<AuthServerFactory>
{
    private const string ChromeOnLinux =
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36";

    private async Task<Screen> StartAsync(string userAgent)
    {
        var http = factory.CreateClient();
        http.DefaultRequestHeaders.UserAgent.Clear();
        http.DefaultRequestHeaders.TryAddWithoutValidation("User-Agent", userAgent);
        return await Screen.StartAsync(factory, http: http);
    }

    [Fact]
    public async Task A_scan_summarises_the_requesters_user_agent_and_describes_the_scopes_in_plain_words()
    {
        var screen = await StartAsync(ChromeOnLinux);
        var phone = await PhoneApp.SignInAsync(factory);

        var scan = await phone.ScanAsync(screen.UserCode);

        scan.Status.ShouldBe(HttpStatusCode.Created, $"body: {scan.Json}");
        var requester = scan.Json.GetProperty("requester");
        requester.GetProperty("summary").GetString().ShouldBe("Chrome on Linux");
        requester.GetProperty("user_agent").GetString().ShouldBe(ChromeOnLinux);
        var scopes = scan.Json.GetProperty("scopes").EnumerateArray().Select(s => s.GetString()).ToList();
        var words = scan.Json.GetProperty("scope_descriptions").EnumerateArray().Select(s => s.GetString()).ToList();
        scopes.ShouldBe(["openid", "profile", "offline_access", "api"]);
        words.ShouldBe(["Know who you are", "See your name", "Stay signed in on this device until you log it out", "Use the API on your behalf"]);
        scan.Json.GetProperty("client").TryGetProperty("logo_uri", out _).ShouldBeFalse("demo-tv registers no logo");
    }

    /// <summary>
    /// Request localization runs on the scan only, of the phone API's paths (Localization/Languages.cs): its answer is
    /// the one with words for people, and it must still follow the phone's language.
    /// </summary>
    [Fact]
    public async Task A_scan_in_chinese_describes_the_scopes_in_chinese_and_the_approval_still_goes_through()
    {
        var screen = await StartAsync(ChromeOnLinux);
        var phone = await PhoneApp.SignInAsync(factory);
        var chinese = factory.CreateClient();
        chinese.DefaultRequestHeaders.AcceptLanguage.ParseAdd("zh-CN");

        var scan = await PhoneApp.SendAsync(chinese, HttpMethod.Post, $"{PhoneApp.Prefix}/scans", phone.AccessToken,
            content: System.Net.Http.Json.JsonContent.Create(new { code = screen.UserCode }));

        scan.Status.ShouldBe(HttpStatusCode.Created, $"body: {scan.Json}");
        var words = scan.Json.GetProperty("scope_descriptions").EnumerateArray().Select(s => s.GetString()).ToList();
        words[0].ShouldBe("知道你是谁");
        words[1].ShouldBe("查看你的姓名");
        (await phone.ApproveAsync(scan.Get("scan_id"), scan.Get("confirm_ticket"))).Status.ShouldBe(HttpStatusCode.NoContent);
    }

    [Fact]
    public async Task An_agent_we_do_not_recognise_has_a_null_summary()
    {
        var screen = await StartAsync(Screen.UserAgent);
        var phone = await PhoneApp.SignInAsync(factory);

        var scan = await phone.ScanAsync(screen.UserCode);

        scan.Status.ShouldBe(HttpStatusCode.Created);
        scan.Json.GetProperty("requester").GetProperty("summary").ValueKind.ShouldBe(JsonValueKind.Null);
    }

    [Fact]
    public async Task An_expired_code_is_410_with_reason_expired()
    {
        var screen = await StartAsync(ChromeOnLinux);
        var phone = await PhoneApp.SignInAsync(factory);
        factory.Clock.Advance(TimeSpan.FromSeconds(screen.ExpiresIn));

        var scan = await phone.ScanAsync(screen.UserCode);

        scan.ShouldBeProblem(HttpStatusCode.Gone, "Request closed");
        scan.Json.GetProperty("reason").GetString().ShouldBe("expired");
        scan.Json.GetProperty("detail").GetString()!.ShouldContain("expired");
    }

    [Fact]
    public async Task A_superseded_code_is_410_with_reason_expired()
    {
        var old = await StartAsync(ChromeOnLinux);
        await Screen.StartAsync(factory, http: old.Http, extra: [("superseded_device_code", old.DeviceCode)]);
        var phone = await PhoneApp.SignInAsync(factory);

        var scan = await phone.ScanAsync(old.UserCode);

        scan.ShouldBeProblem(HttpStatusCode.Gone, "Request closed");
        scan.Json.GetProperty("reason").GetString().ShouldBe("expired");
    }

    [Fact]
    public async Task A_code_that_was_already_approved_or_denied_is_410_with_reason_used()
    {
        var phone = await PhoneApp.SignInAsync(factory);
        var approved = await StartAsync(ChromeOnLinux);
        await phone.ScanAndApproveAsync(approved.UserCode);
        var denied = await StartAsync(ChromeOnLinux);
        var scan = await phone.ScanOkAsync(denied.UserCode);
        (await phone.DenyAsync(scan.ScanId, scan.ConfirmTicket)).Status.ShouldBe(HttpStatusCode.NoContent);

        foreach (var screen in new[] { approved, denied })
        {
            var again = await phone.ScanAsync(screen.UserCode);
            again.ShouldBeProblem(HttpStatusCode.Gone, "Request closed");
            again.Json.GetProperty("reason").GetString().ShouldBe("used");
        }
    }
}
