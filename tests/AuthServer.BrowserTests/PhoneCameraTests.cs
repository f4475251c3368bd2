using System.Text.Json;
using AuthServer.BrowserTests.Infrastructure;
using AuthServer.Tests.Infrastructure;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace AuthServer.BrowserTests;

/// <summary>
/// The phone web app's camera in real Chromium. The phone is a Chromium of its own, launched with a fake camera that
/// films the waiting page's live QR code (a Y4M file made from that page's QR image by <see cref="FakeCamera"/>): a
/// fake capture file is a launch flag, so it needs its own browser. The waiting page is the usual one, in the shared
/// browser.
/// </summary>
public sealed class PhoneCameraTests(BrowserFixture browser, LiveServer server)
    : QrPageTest(browser, server), IClassFixture<LiveServer>
{
    [Fact]
    public Task The_phone_scans_the_waiting_pages_qr_with_its_camera_and_the_waiting_page_signs_in() => InBrowserAsync(async page =>
    {
        await WarmUpAsync();
        CatchUpWithRealTime();
        var started = await OpenAsync(page);
        var pixels = await FakeCamera.ReadImageAsync(page.GetByTestId("qr"));
        var film = Path.Combine(Path.GetTempPath(), $"qr-{Guid.NewGuid():N}.y4m");
        FakeCamera.WriteY4m(film, pixels.Width, pixels.Height, pixels.Rgba);
        try
        {
            await using var phone = await PhoneBrowser.LaunchAsync(Server, FakeCamera.Flags(film));
            var screen = phone.Page;
            await PhoneAppSteps.SignInAsync(Server, screen);

            await screen.GetByTestId("scan").ClickAsync();

            // What the camera read was the waiting page's code: the confirm screen names this very request.
            await Expect(screen.GetByTestId("user-code")).ToHaveTextAsync(started.Get("user_code"), new() { Timeout = 20_000 });
            (await screen.GetByTestId("camera").GetAttributeAsync("data-decoder")).ShouldBeOneOf("jsQR", "BarcodeDetector");
            await Expect(screen.GetByTestId("question")).ToHaveTextAsync("Sign in on Chrome on Linux?");
            await PhoneAppSteps.SaveScreenshotAsync(screen, "phone-confirm-scanned.png");
            await Expect(screen.GetByTestId("client")).ToHaveTextAsync("AuthServer wants to sign in to your account.");
            await Expect(page.GetByTestId("status")).ToHaveTextAsync("Scanned — confirm on your phone");

            await screen.GetByTestId("approve").ClickAsync();

            await Expect(screen.GetByTestId("result")).ToContainTextAsync("is signed in");
            await Expect(page.GetByTestId("signed-in-user")).ToHaveTextAsync("Signed in as Demo User");
            // The camera is off once the code was read.
            (await screen.EvaluateAsync<bool>("() => document.querySelector('[data-video]').srcObject === null")).ShouldBeTrue();
        }
        finally
        {
            File.Delete(film);
        }
    });

    /// <summary>
    /// The first requests of a fresh server compile its pages and load OpenIddict's caches; on a busy machine that must
    /// not be spent from the bound of the steps that follow.
    /// </summary>
    private async Task WarmUpAsync()
    {
        using var warm = Server.CreateDevice();
        foreach (var path in new[] { "/", "/phone/", "/Identity/Account/Login" })
            (await warm.GetAsync(path)).EnsureSuccessStatusCode();
        (await warm.StartAsync(clientId: "web", scope: "openid")).Status.ShouldBe(System.Net.HttpStatusCode.OK);
    }

    private void CatchUpWithRealTime()
    {
        var real = DateTimeOffset.FromUnixTimeSeconds(DateTimeOffset.UtcNow.ToUnixTimeSeconds());
        if (real > Server.Clock.GetUtcNow()) Server.Clock.SetUtcNow(real);
    }

    /// <summary>A phone: a Chromium launched with <paramref name="flags"/>, one phone-sized context and page.</summary>
    private sealed class PhoneBrowser : IAsyncDisposable
    {
        private readonly IPlaywright _playwright;
        private readonly IBrowser _browser;

        private PhoneBrowser(IPlaywright playwright, IBrowser browser, IPage page)
        {
            _playwright = playwright;
            _browser = browser;
            Page = page;
        }

        public IPage Page { get; }

        public static async Task<PhoneBrowser> LaunchAsync(LiveServer server, string[] flags)
        {
            var playwright = await Playwright.CreateAsync();
            var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
            {
                ExecutablePath = BrowserFixture.ChromiumPath,
                Headless = true,
                Args = [.. BrowserFixture.Flags, .. flags],
                Timeout = 30_000,
            });
            var context = await browser.NewContextAsync(new BrowserNewContextOptions
            {
                BaseURL = server.BaseAddress.AbsoluteUri,
                Locale = "en-US",
                TimezoneId = "UTC",
                ViewportSize = new ViewportSize { Width = PhoneAppSteps.PhoneWidth, Height = PhoneAppSteps.PhoneHeight },
                DeviceScaleFactor = 1,
            });
            context.SetDefaultTimeout((float)BrowserFixture.Timeout.TotalMilliseconds);
            context.SetDefaultNavigationTimeout((float)BrowserFixture.Timeout.TotalMilliseconds);
            var page = await context.NewPageAsync();
            // A new Chromium on a busy machine may take a while over its first page; later steps keep the usual bound.
            await page.GotoAsync("/phone/", new() { Timeout = 30_000 });
            return new PhoneBrowser(playwright, browser, page);
        }

        public async ValueTask DisposeAsync()
        {
            await _browser.CloseAsync();
            _playwright.Dispose();
        }
    }
}
