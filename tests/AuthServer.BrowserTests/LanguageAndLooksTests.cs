using System.Globalization;
using System.Text.RegularExpressions;
using AuthServer.BrowserTests.Infrastructure;
using AuthServer.Tests.Infrastructure;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace AuthServer.BrowserTests;

/// <summary>
/// Languages and looks in real Chromium: Simplified Chinese from the browser's language or the header's switch (and
/// the phone app following the same choice), dark mode from the system's colour scheme, times in the reader's own
/// zone, and what the QR page says with JavaScript off. Each test makes the browser context it needs.
/// </summary>
public sealed partial class LanguageAndLooksTests(BrowserFixture browser, LiveServer server)
    : BrowserTest(browser, server), IClassFixture<LiveServer>
{
    private readonly BrowserFixture _browser = browser;

    /// <summary>A fresh context like the fixture's, with this test's language, zone, colours or scripts.</summary>
    private async Task<IPage> OpenAsync(string locale = "en-US", string timezone = "UTC", ColorScheme scheme = ColorScheme.Light,
        bool javaScript = true, int width = 1280, int height = 720)
    {
        var context = await _browser.Browser.NewContextAsync(new BrowserNewContextOptions
        {
            BaseURL = Server.BaseAddress.AbsoluteUri,
            Locale = locale,
            TimezoneId = timezone,
            ColorScheme = scheme,
            JavaScriptEnabled = javaScript,
            ViewportSize = new ViewportSize { Width = width, Height = height },
            DeviceScaleFactor = 1,
        });
        context.SetDefaultTimeout((float)BrowserFixture.Timeout.TotalMilliseconds);
        context.SetDefaultNavigationTimeout((float)BrowserFixture.Timeout.TotalMilliseconds);
        return await context.NewPageAsync();
    }

    [Fact]
    public Task A_chinese_browser_reads_the_main_pages_in_chinese() => InBrowserAsync(async _ =>
    {
        var page = await OpenAsync(locale: "zh-CN");
        try
        {
            await page.GotoAsync("/");
            await Expect(page.Locator("html")).ToHaveAttributeAsync("lang", "zh-CN");
            await Expect(page.Locator("h1")).ToHaveTextAsync("扫码登录");
            // The script's own words come from the page, so the live status is Chinese too.
            await Expect(page.GetByTestId("status")).ToContainTextAsync("请用手机扫码");
            await Expect(page.GetByTestId("scan-hint")).ToContainTextAsync("用手机相机扫码");

            await page.GotoAsync("/device");
            await Expect(page).ToHaveURLAsync(new Regex("/Identity/Account/Login"));
            await Expect(page.GetByTestId("password-sign-in").Locator("h2")).ToHaveTextAsync("使用密码");
            await PasswordForm.SignInAsync(page, AuthServerFactory.DemoEmail, AuthServerFactory.DemoPassword);
            await Expect(page.Locator("h1")).ToHaveTextAsync("登录设备");
            await Expect(page.GetByTestId("sign-out")).ToHaveTextAsync("退出登录");

            await page.GotoAsync("/account/devices");
            await Expect(page.Locator("h1")).ToHaveTextAsync("已关联的设备");

            await page.GotoAsync("/no-such-page");
            await Expect(page.Locator("h1")).ToHaveTextAsync("找不到页面");
        }
        finally
        {
            await page.Context.CloseAsync();
        }
    });

    [Fact]
    public Task The_switch_changes_the_language_and_remembers_it() => InBrowserAsync(async page =>
    {
        await page.GotoAsync("/Identity/Account/Login");
        await Expect(page.Locator("h1")).ToHaveTextAsync("Sign in");

        await page.GetByTestId("language-zh-CN").ClickAsync();

        // Back on the same page, now in Chinese, and still so on the next page and in a new tab of this browser.
        await Expect(page).ToHaveURLAsync(new Regex("/Identity/Account/Login$"));
        await Expect(page.Locator("h1")).ToHaveTextAsync("登录");
        await page.GotoAsync("/");
        await Expect(page.Locator("h1")).ToHaveTextAsync("扫码登录");
        var tab = await page.Context.NewPageAsync();
        await tab.GotoAsync("/phone/");
        await Expect(tab.GetByTestId("sign-in")).ToHaveTextAsync("登录");
        await Expect(tab.Locator("html")).ToHaveAttributeAsync("lang", "zh-CN");

        await page.GetByTestId("language-en").ClickAsync();
        await Expect(page.Locator("h1")).ToHaveTextAsync("Sign in with your phone");
    });

    [Fact]
    public Task The_phone_app_confirms_in_chinese_for_a_chinese_phone() => InBrowserAsync(async _ =>
    {
        var page = await OpenAsync(locale: "zh-CN", width: PhoneAppSteps.PhoneWidth, height: PhoneAppSteps.PhoneHeight);
        try
        {
            using var device = Server.CreateDevice();
            device.DefaultRequestHeaders.TryAddWithoutValidation("User-Agent", PhoneAppTests.ChromeOnLinux);
            var started = await device.StartAsync(deviceName: "Office PC");
            await SignInPhoneAsync(page);
            await Expect(page.GetByTestId("scan")).ToHaveTextAsync("扫码登录");

            await page.GetByTestId("type-code").ClickAsync();
            await page.GetByTestId("code-input").FillAsync(started.Get("user_code"));
            await page.GetByTestId("code-submit").ClickAsync();

            await Expect(page.GetByTestId("question")).ToHaveTextAsync("要登录 Linux 上的 Chrome 吗？");
            await Expect(page.GetByTestId("client")).ToHaveTextAsync("Demo TV 请求登录你的账号。");
            await Expect(page.GetByTestId("scopes")).ToContainTextAsync("代表你使用 API");
            await Expect(page.GetByTestId("approve")).ToHaveTextAsync("确认登录");
            await Expect(page.GetByTestId("deny")).ToHaveTextAsync("拒绝");
            await page.GetByTestId("deny").ClickAsync();
            await Expect(page.GetByTestId("result")).ToHaveTextAsync("Linux 上的 Chrome 不会被登录。");
        }
        finally
        {
            await page.Context.CloseAsync();
        }
    });

    [Fact]
    public Task Dark_mode_follows_the_system_colour_scheme() => InBrowserAsync(async _ =>
    {
        var page = await OpenAsync(scheme: ColorScheme.Dark);
        try
        {
            await page.GotoAsync("/Identity/Account/Login");
            (await Background(page, "html")).ShouldBe("rgb(15, 20, 28)");
            (await Background(page, "main")).ShouldBe("rgb(26, 33, 45)");
            (await page.Locator("h1").EvaluateAsync<string>("e => getComputedStyle(e).color")).ShouldBe("rgb(230, 234, 240)");
            // The QR code keeps its light quiet zone: cameras read dark modules on light.
            await Expect(page.GetByTestId("phone-sign-in").GetByTestId("qr")).ToBeVisibleAsync();
            (await Background(page, "[data-testid=phone-sign-in] [data-testid=qr]")).ShouldBe("rgb(255, 255, 255)");

            await page.GotoAsync("/phone/");
            (await Background(page, "html")).ShouldBe("rgb(15, 20, 28)");
            (await Background(page, "[data-testid=sign-in]")).ShouldBe("rgb(217, 226, 240)");
        }
        finally
        {
            await page.Context.CloseAsync();
        }

        var light = await OpenAsync(scheme: ColorScheme.Light);
        try
        {
            await light.GotoAsync("/Identity/Account/Login");
            (await Background(light, "main")).ShouldBe("rgb(255, 255, 255)");
        }
        finally
        {
            await light.Context.CloseAsync();
        }
    });

    [Fact]
    public Task Times_show_in_the_browsers_own_zone() => InBrowserAsync(async _ =>
    {
        var page = await OpenAsync(timezone: "Asia/Shanghai");
        try
        {
            using var device = Server.CreateDevice();
            var started = await device.StartAsync(deviceName: "Office PC");
            await page.GotoAsync(started.Get("verification_uri_complete"));
            await PasswordForm.SignInAsync(page, AuthServerFactory.DemoEmail, AuthServerFactory.DemoPassword);

            var time = page.GetByTestId("asked").Locator("time");
            var utc = DateTimeOffset.Parse((await time.GetAttributeAsync("datetime"))!, CultureInfo.InvariantCulture);
            var shanghai = utc.ToOffset(TimeSpan.FromHours(8));
            // en-US's medium date and short time, in UTC+8 (China has no daylight saving time).
            var hour = shanghai.Hour % 12 == 0 ? 12 : shanghai.Hour % 12;
            // Chromium puts a narrow no-break space before AM/PM.
            var expected = string.Create(CultureInfo.InvariantCulture,
                $"^{Month(shanghai.Month)} {shanghai.Day}, {shanghai.Year}, {hour}:{shanghai.Minute:D2}[\\s\u202f]{(shanghai.Hour < 12 ? "AM" : "PM")}$");
            await Expect(time).ToHaveTextAsync(new Regex(expected));
            (await time.GetAttributeAsync("title")).ShouldBe(utc.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture));
        }
        finally
        {
            await page.Context.CloseAsync();
        }
    });

    [Fact]
    public Task With_javascript_off_the_qr_page_says_what_to_do() => InBrowserAsync(async _ =>
    {
        var page = await OpenAsync(javaScript: false);
        try
        {
            await page.GotoAsync("/");
            var message = page.GetByTestId("noscript");
            await Expect(message).ToBeVisibleAsync();
            await Expect(message).ToContainTextAsync("Signing in with your phone needs JavaScript");
            await Expect(message.GetByRole(AriaRole.Link, new() { Name = "Sign in" })).ToHaveAttributeAsync("href", "/Identity/Account/Login");
            await Expect(message.GetByRole(AriaRole.Link, new() { Name = "/device" })).ToHaveAttributeAsync("href", "/device");
            // The time-sensitive parts, which only the script can fill, stay hidden rather than showing empty.
            await Expect(page.GetByTestId("qr")).ToBeHiddenAsync();
        }
        finally
        {
            await page.Context.CloseAsync();
        }
    });

    private static Task<string> Background(IPage page, string selector) =>
        page.Locator(selector).First.EvaluateAsync<string>("e => getComputedStyle(e).backgroundColor");

    private static string Month(int month) =>
        new[] { "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" }[month - 1];

    /// <summary>The phone app's sign-in in any language (PhoneAppSteps checks the English home screen).</summary>
    private async Task SignInPhoneAsync(IPage page)
    {
        var real = DateTimeOffset.UtcNow;
        if (real > Server.Clock.GetUtcNow()) Server.Clock.SetUtcNow(real);
        await page.GotoAsync("/phone/", new() { Timeout = 30_000 });
        await page.GetByTestId("sign-in").ClickAsync();
        await Expect(page).ToHaveURLAsync(new Regex("/Identity/Account/Login"));
        await PasswordForm.SignInAsync(page, AuthServerFactory.DemoEmail, AuthServerFactory.DemoPassword);
        await Expect(page.GetByTestId("account")).ToBeVisibleAsync();
        await Expect(page.GetByTestId("scan")).ToBeVisibleAsync();
    }
}

/// <summary>The sign-in page's password form, in any language: its fields are found by name, not by label.</summary>
public static class PasswordForm
{
    public static async Task SignInAsync(IPage page, string email, string password)
    {
        var form = page.Locator("form", new() { Has = page.Locator("[name='Input.Email']") });
        await form.Locator("[name='Input.Email']").FillAsync(email);
        await form.Locator("[name='Input.Password']").FillAsync(password);
        await form.Locator("button[type=submit]").ClickAsync();
    }
}
