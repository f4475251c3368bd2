using System.Net;
using System.Text.RegularExpressions;
using AuthServer.BrowserTests.Infrastructure;
using AuthServer.Tests.Infrastructure;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;
using Answer = AuthServer.Tests.Infrastructure.Protocol.Answer;

namespace AuthServer.BrowserTests;

/// <summary>
/// The user's journey in real Chromium: a device starts a login, the phone opens <c>verification_uri_complete</c>, signs
/// in on the Identity page, reads the consent page and decides; the device's next poll gets the answer. The server runs
/// on the fake clock: the test moves it by the poll interval instead of sleeping.
/// </summary>
public sealed partial class DeviceSignInTests(BrowserFixture browser, LiveServer server)
    : BrowserTest(browser, server), IClassFixture<LiveServer>
{
    [Fact]
    public Task Scanning_signing_in_and_approving_signs_the_device_in() => InBrowserAsync(async page =>
    {
        using var device = Server.CreateDevice();
        var started = await device.StartAsync(deviceName: "Living room TV");
        var userCode = started.Get("user_code");
        (await device.PollAsync(started.Get("device_code"))).Error.ShouldBe("authorization_pending");

        await SignInThroughVerificationUriAsync(page, started);
        await ExpectConsentAsync(page, userCode, "Living room TV");
        await page.GetByRole(AriaRole.Button, new() { Name = "Approve", Exact = true }).ClickAsync();
        await Expect(page.GetByTestId("result")).ToContainTextAsync("Living room TV is now signed in");

        Server.Clock.Advance(PollInterval(started));
        var tokens = await device.PollAsync(started.Get("device_code"));
        tokens.Status.ShouldBe(HttpStatusCode.OK, tokens.Json.ToString());
        tokens.Get("access_token").ShouldNotBeNullOrWhiteSpace();
        tokens.Get("token_type").ShouldBe("Bearer");
    });

    [Fact]
    public Task Denying_on_the_consent_page_tells_the_device_access_denied() => InBrowserAsync(async page =>
    {
        using var device = Server.CreateDevice();
        var started = await device.StartAsync(deviceName: "Kitchen TV");

        await SignInThroughVerificationUriAsync(page, started);
        await ExpectConsentAsync(page, started.Get("user_code"), "Kitchen TV");
        await page.GetByRole(AriaRole.Button, new() { Name = "Deny", Exact = true }).ClickAsync();
        await Expect(page.GetByTestId("result")).ToContainTextAsync("Kitchen TV will not be signed in");

        var answer = await device.PollAsync(started.Get("device_code"));
        answer.Status.ShouldBe(HttpStatusCode.BadRequest, answer.Json.ToString());
        answer.Error.ShouldBe("access_denied");
    });

    [Fact]
    public Task The_qr_code_rendered_by_chromium_scans_to_verification_uri_complete() => InBrowserAsync(async page =>
    {
        using var device = Server.CreateDevice();
        var started = await device.StartAsync();

        var response = await page.GotoAsync($"/device/qr?user_code={Uri.EscapeDataString(started.Get("user_code"))}");
        response.ShouldNotBeNull();
        response.Status.ShouldBe(200);
        (await response.HeaderValueAsync("content-type")).ShouldBe("image/png");
        var image = page.Locator("img");
        await Expect(image).ToBeVisibleAsync();
        // Decoded means the image has loaded: its natural size is known.
        await page.WaitForFunctionAsync("() => { const i = document.querySelector('img'); return i && i.complete && i.naturalWidth > 0; }");

        // What a camera pointed at the screen would see: the whole viewport, as Chromium painted it.
        var screenshot = await page.ScreenshotAsync();

        (await QrDecoder.DecodeAsync(screenshot)).ShouldBe(started.Get("verification_uri_complete"));
    });

    /// <summary>Opens the link the QR code carries; not signed in yet, the phone is sent to the login page first.</summary>
    private static async Task SignInThroughVerificationUriAsync(IPage page, Answer started)
    {
        await page.GotoAsync(started.Get("verification_uri_complete"));
        await Expect(page).ToHaveURLAsync(LoginPage());

        var form = page.Locator("form", new() { Has = page.Locator("[name='Input.Email']") });
        await form.Locator("[name='Input.Email']").FillAsync(AuthServerFactory.DemoEmail);
        await form.Locator("[name='Input.Password']").FillAsync(AuthServerFactory.DemoPassword);
        await form.Locator("button[type=submit]").ClickAsync();
    }

    private static async Task ExpectConsentAsync(IPage page, string userCode, string deviceName)
    {
        await Expect(page).ToHaveURLAsync(ConsentPage());
        await Expect(page.GetByTestId("user-code")).ToHaveTextAsync(userCode);
        await Expect(page.Locator("main")).ToContainTextAsync($"{deviceName} (as reported by the device)");
    }

    private static TimeSpan PollInterval(Answer started) =>
        TimeSpan.FromSeconds(started.Json.GetProperty("interval").GetInt32());

    [GeneratedRegex("/Identity/Account/Login\\?ReturnUrl=")]
    private static partial Regex LoginPage();

    [GeneratedRegex("/device\\?user_code=")]
    private static partial Regex ConsentPage();
}
