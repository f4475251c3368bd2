using System.Net;
using System.Text.Json;
using AuthServer.BrowserTests.Infrastructure;
using AuthServer.Tests.Infrastructure;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace AuthServer.BrowserTests;

/// <summary>
/// A QR sign-in that signs this browser in, in real Chromium: the phone's approval becomes the server's session
/// cookie, for the account pages and for any OpenID Connect client's authorization request waiting at the sign-in
/// page; another browser holding the same device code gets nothing.
/// </summary>
public sealed class BrowserSessionTests(BrowserFixture browser, LiveServer server)
    : QrPageTest(browser, server), IClassFixture<LiveServer>
{
    private readonly BrowserFixture _browser = browser;

    [Fact]
    public Task A_phone_approval_signs_this_browser_in_for_the_account_pages_and_a_reload() => InBrowserAsync(async page =>
    {
        await OpenAsync(page);
        using var phone = await Phone.SignInAsync(Server);
        await phone.ApproveAsync(await phone.ScanAsync(await DecodeQrAsync(page)));
        await Expect(page.GetByTestId("signed-in-user")).ToHaveTextAsync("Signed in as Demo User");
        await Expect(page.GetByTestId("account")).ToHaveTextAsync(AuthServerFactory.DemoEmail);

        // The account pages open without a password.
        var devices = await page.GotoAsync("/account/devices");
        devices!.Status.ShouldBe(200);
        page.Url.ShouldBe(Server.Url("/account/devices"));
        await Expect(page.Locator("h1")).ToHaveTextAsync("Linked devices");
        await Expect(page.Locator("main")).ToContainTextAsync("AuthServer");

        // A reload keeps the session.
        await page.GotoAsync("/");
        await page.ReloadAsync();
        await Expect(page.GetByTestId("signed-in-user")).ToHaveTextAsync("Signed in as Demo User");
        await Expect(page.GetByTestId("account")).ToHaveTextAsync(AuthServerFactory.DemoEmail);

        // Sign-out in the header ends it; the home page offers the QR code again.
        await page.GetByTestId("sign-out").ClickAsync();
        await Expect(page.GetByTestId("result")).ToHaveTextAsync("You are signed out.");
        await page.GotoAsync("/");
        await Expect(page.GetByTestId("account")).ToHaveCountAsync(0);
        await Expect(Root(page)).ToBeVisibleAsync();
    });

    [Fact]
    public Task A_second_browser_holding_the_same_device_code_gets_nothing() => InBrowserAsync(async page =>
    {
        // The page's own redemption waits until the other browser has tried first.
        var otherTried = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await page.RouteAsync("**/connect/token", async route =>
        {
            await otherTried.Task.WaitAsync(BrowserFixture.Timeout);
            await route.ContinueAsync();
        });
        var started = await OpenAsync(page);
        var deviceCode = started.Get("device_code");
        using var phone = await Phone.SignInAsync(Server);
        await phone.ApproveAsync(await phone.ScanAsync(await DecodeQrAsync(page)));

        await using var other = await _browser.NewContextAsync(Server.BaseAddress);
        var otherPage = await other.NewPageAsync();
        await otherPage.GotoAsync("/");
        var stolen = await otherPage.EvaluateAsync<JsonElement>("""
            async deviceCode => {
              const response = await fetch('/connect/token', {
                method: 'POST',
                body: new URLSearchParams({
                  grant_type: 'urn:ietf:params:oauth:grant-type:device_code', client_id: 'web', device_code: deviceCode }),
              });
              return { status: response.status, body: await response.json() };
            }
            """, deviceCode);
        otherTried.SetResult();

        stolen.GetProperty("status").GetInt32().ShouldBe(400);
        stolen.GetProperty("body").GetProperty("error").GetString().ShouldBe("invalid_grant");
        stolen.GetProperty("body").GetProperty("error_description").GetString().ShouldBe("This device code belongs to another browser.");
        stolen.GetProperty("body").TryGetProperty("access_token", out _).ShouldBeFalse();
        (await other.CookiesAsync()).ShouldNotContain(c => c.Name == "authserver.session");
        await otherPage.GotoAsync("/account/devices");
        otherPage.Url.ShouldStartWith(Server.Url("/Identity/Account/Login"));

        // The browser that showed the QR code is signed in all the same.
        await Expect(page.GetByTestId("signed-in-user")).ToHaveTextAsync("Signed in as Demo User");
    });

    [Fact]
    public Task A_third_party_clients_code_flow_completes_through_a_qr_sign_in_on_the_sign_in_page() => InBrowserAsync(async page =>
    {
        // The third-party app's callback is answered in the browser; the test redeems the code as the app's server would.
        var callback = new TaskCompletionSource<Uri>(TaskCreationOptions.RunContinuationsAsynchronously);
        await page.RouteAsync(AuthServerFactory.WebAppOrigin + "/**", async route =>
        {
            callback.TrySetResult(new Uri(route.Request.Url));
            await route.FulfillAsync(new() { Status = 200, ContentType = "text/plain", Body = "the web app's callback" });
        });
        var pkce = CodeFlow.Pkce.New();
        var authorize = CodeFlow.AuthorizeUrl(AuthServerFactory.WebAppClientId, AuthServerFactory.WebAppRedirectUri, pkce, "openid profile email");

        await OpenAsync(page, path: authorize);
        page.Url.ShouldStartWith(Server.Url("/Identity/Account/Login?ReturnUrl="));
        await Expect(page.GetByTestId("password-sign-in")).ToBeVisibleAsync();
        await Expect(page.GetByTestId("phone-sign-in")).ToContainTextAsync("Sign in with your phone");
        await SaveSignInPageScreenshotAsync(page);

        using var phone = await Phone.SignInAsync(Server);
        var scan = await phone.ScanAsync(await DecodeQrAsync(page));
        // What the phone's confirm screen is told: the AuthServer page, in this browser, from this address.
        scan.GetProperty("client").GetProperty("name").GetString().ShouldBe("AuthServer");
        scan.ToString().ShouldContain("Chrome on Linux");
        scan.ToString().ShouldContain("127.0.0.1");
        await Expect(page.GetByTestId("status")).ToHaveTextAsync("Scanned — confirm on your phone");
        await phone.ApproveAsync(scan);

        // Signed in, the authorization request continues: the third-party app asks for consent once.
        await Expect(page.GetByRole(AriaRole.Button, new() { Name = "Allow" })).ToBeVisibleAsync();
        await Expect(page.GetByTestId("account")).ToHaveTextAsync(AuthServerFactory.DemoEmail);
        await page.GetByRole(AriaRole.Button, new() { Name = "Allow" }).ClickAsync();

        var landed = await callback.Task.WaitAsync(BrowserFixture.Timeout);
        landed.GetLeftPart(UriPartial.Path).ShouldBe(AuthServerFactory.WebAppRedirectUri);
        var query = CodeFlow.Query(landed);
        query["state"].ShouldBe("s-123");
        query["iss"].ShouldBe(Server.BaseAddress.AbsoluteUri);

        using var app = Server.CreateDevice();
        var tokens = await CodeFlow.RedeemAsync(app, AuthServerFactory.WebAppClientId, query["code"], AuthServerFactory.WebAppRedirectUri,
            pkce.Verifier, AuthServerFactory.WebAppSecret);
        tokens.Status.ShouldBe(HttpStatusCode.OK, tokens.Json.ToString());
        tokens.Get("id_token").ShouldNotBeEmpty();
        var claims = JsonDocument.Parse(Microsoft.IdentityModel.Tokens.Base64UrlEncoder.Decode(tokens.Get("id_token").Split('.')[1])).RootElement;
        claims.GetProperty("aud").GetString().ShouldBe(AuthServerFactory.WebAppClientId);
        claims.GetProperty("nonce").GetString().ShouldBe("n-456");
        claims.GetProperty("email").GetString().ShouldBe(AuthServerFactory.DemoEmail);
    });

    /// <summary>The sign-in page with its two ways in, for the docs, when AUTHSERVER_SIGNIN_SCREENSHOT names the file.</summary>
    private static async Task SaveSignInPageScreenshotAsync(IPage page)
    {
        if (Environment.GetEnvironmentVariable("AUTHSERVER_SIGNIN_SCREENSHOT") is not { Length: > 0 } file) return;
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = file, FullPage = true });
    }
}
