using System.Text.RegularExpressions;
using AuthServer.BrowserTests.Infrastructure;
using AuthServer.Tests.Infrastructure;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace AuthServer.BrowserTests;

/// <summary>Runs only when <c>AUTHSERVER_SCREENSHOTS</c> is set: it rewrites the pictures in docs/images/screens.</summary>
public sealed class ScreenshotFactAttribute : FactAttribute
{
    public const string Variable = "AUTHSERVER_SCREENSHOTS";

    public ScreenshotFactAttribute()
    {
        if (Environment.GetEnvironmentVariable(Variable) is not { Length: > 0 })
            Skip = $"Set {Variable}=1 to regenerate the screenshots in docs/images/screens.";
    }
}

/// <summary>
/// The main screens for the docs, desktop and phone, English in light mode and Chinese in dark mode:
/// <c>AUTHSERVER_SCREENSHOTS=1 dotnet test tests/AuthServer.BrowserTests -c Release --filter FullyQualifiedName~ScreenshotTests</c>.
/// Each step also checks that the screen it photographs is the one it means, so a picture never shows an error.
/// The Chinese pictures need a CJK font on the machine (Debian: fonts-wqy-microhei); the tests' text checks do not.
/// </summary>
public sealed class ScreenshotTests(BrowserFixture browser, LiveServer server)
    : BrowserTest(browser, server), IClassFixture<LiveServer>
{
    private readonly BrowserFixture _browser = browser;

    public static string Folder => Path.Combine(RepositoryRoot.Path, "docs", "images", "screens");

    [ScreenshotFact]
    public async Task The_main_screens_are_photographed()
    {
        Directory.CreateDirectory(Folder);
        foreach (var (locale, scheme) in new[] { ("en", ColorScheme.Light), ("zh-CN", ColorScheme.Dark) })
        {
            foreach (var (form, width, height) in new[] { ("desktop", 1280, 800), ("phone", PhoneAppSteps.PhoneWidth, PhoneAppSteps.PhoneHeight) })
                await PhotographPagesAsync($"{form}-{locale}-{scheme.ToString().ToLowerInvariant()}", locale, scheme, width, height);
            await PhotographPhoneAppAsync($"phone-{locale}-{scheme.ToString().ToLowerInvariant()}", locale, scheme);
        }
        Directory.GetFiles(Folder, "*.png").Length.ShouldBeGreaterThanOrEqualTo(22);
    }

    private async Task<IPage> OpenAsync(string locale, ColorScheme scheme, int width, int height)
    {
        var context = await _browser.Browser.NewContextAsync(new BrowserNewContextOptions
        {
            BaseURL = Server.BaseAddress.AbsoluteUri,
            Locale = locale,
            TimezoneId = "Asia/Shanghai",
            ColorScheme = scheme,
            ViewportSize = new ViewportSize { Width = width, Height = height },
            DeviceScaleFactor = 1,
        });
        context.SetDefaultTimeout(20_000);
        return await context.NewPageAsync();
    }

    private static async Task ShootAsync(IPage page, string screen, string variant)
    {
        var file = Path.Combine(Folder, $"{screen}-{variant}.png");
        await page.ScreenshotAsync(new() { Path = file });
        new FileInfo(file).Length.ShouldBeLessThan(150_000, file);
    }

    private async Task PhotographPagesAsync(string variant, string locale, ColorScheme scheme, int width, int height)
    {
        var page = await OpenAsync(locale, scheme, width, height);
        try
        {
            await page.GotoAsync("/");
            await Expect(page.Locator("[data-qr-login]")).ToHaveAttributeAsync("data-state", "pending");
            await ShootAsync(page, "home", variant);

            await page.GotoAsync("/Identity/Account/Login");
            await Expect(page.Locator("[data-qr-login]")).ToHaveAttributeAsync("data-state", "pending");
            await ShootAsync(page, "sign-in", variant);

            using var device = Server.CreateDevice();
            device.DefaultRequestHeaders.TryAddWithoutValidation("User-Agent", PhoneAppTests.ChromeOnLinux);
            var started = await device.StartAsync(deviceName: "Office PC");
            await page.GotoAsync(started.Get("verification_uri_complete"));
            await PasswordForm.SignInAsync(page, AuthServerFactory.AdminEmail, AuthServerFactory.AdminPassword);
            await Expect(page.GetByTestId("question")).ToBeVisibleAsync();
            await ShootAsync(page, "device-confirm", variant);
            await page.Locator("button.approve").ClickAsync();
            await Expect(page.GetByTestId("result")).ToBeVisibleAsync();
            // The device becomes a linked device when its next poll redeems the approval.
            Server.Clock.Advance(TimeSpan.FromSeconds(6));
            (await device.PollAsync(started.Get("device_code"))).Status.ShouldBe(System.Net.HttpStatusCode.OK);

            await page.GotoAsync("/account/devices");
            await Expect(page.GetByTestId("device").First).ToBeVisibleAsync();
            await ShootAsync(page, "linked-devices", variant);

            await page.GotoAsync("/admin/devices");
            await Expect(page.GetByTestId("devices")).ToBeVisibleAsync();
            await ShootAsync(page, "admin-devices", variant);
        }
        finally
        {
            await page.Context.CloseAsync();
        }
    }

    private async Task PhotographPhoneAppAsync(string variant, string locale, ColorScheme scheme)
    {
        var page = await OpenAsync(locale, scheme, PhoneAppSteps.PhoneWidth, PhoneAppSteps.PhoneHeight);
        try
        {
            var real = DateTimeOffset.UtcNow;
            if (real > Server.Clock.GetUtcNow()) Server.Clock.SetUtcNow(real);
            using var device = Server.CreateDevice();
            device.DefaultRequestHeaders.TryAddWithoutValidation("User-Agent", PhoneAppTests.ChromeOnLinux);
            var started = await device.StartAsync(deviceName: "Office PC");
            await page.GotoAsync("/phone/", new() { Timeout = 30_000 });
            await page.GetByTestId("sign-in").ClickAsync();
            await Expect(page).ToHaveURLAsync(new Regex("/Identity/Account/Login"));
            await PasswordForm.SignInAsync(page, AuthServerFactory.DemoEmail, AuthServerFactory.DemoPassword);
            await Expect(page.GetByTestId("scan")).ToBeVisibleAsync();
            await ShootAsync(page, "phone-app-home", variant);
            await page.GetByTestId("type-code").ClickAsync();
            await page.GetByTestId("code-input").FillAsync(started.Get("user_code"));
            await page.GetByTestId("code-submit").ClickAsync();
            await Expect(page.GetByTestId("question")).ToBeVisibleAsync();
            await ShootAsync(page, "phone-app-confirm", variant);
        }
        finally
        {
            await page.Context.CloseAsync();
        }
    }
}
