using System.Net;
using System.Text.RegularExpressions;
using AuthServer.BrowserTests.Infrastructure;
using AuthServer.Tests.Infrastructure;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace AuthServer.BrowserTests;

/// <summary>
/// The server for the phone app's tests: the default one plus a client whose codes expire after 20 seconds, so a test
/// can let a code expire while the browser's DPoP proofs (real time) stay within the server's one-minute window of
/// its fake clock.
/// </summary>
public sealed class PhoneAppServer : IDisposable
{
    public const string ShortLivedClient = "short-tv";
    public const string NumberMatchingClient = "number-tv";
    public static readonly TimeSpan ShortLifetime = TimeSpan.FromSeconds(20);

    public LiveServer Server { get; } = LiveServer.Start(AuthServerFactory.With(new()
    {
        [$"Clients:{ShortLivedClient}:DisplayName"] = "Short-lived TV",
        [$"Clients:{ShortLivedClient}:Type"] = "Public",
        [$"Clients:{ShortLivedClient}:GrantTypes:0"] = "urn:ietf:params:oauth:grant-type:device_code",
        [$"Clients:{ShortLivedClient}:Scopes:0"] = "openid",
        [$"Clients:{ShortLivedClient}:DeviceCodeLifetime"] = "00:00:20",
        [$"Clients:{NumberMatchingClient}:DisplayName"] = "Number TV",
        [$"Clients:{NumberMatchingClient}:Type"] = "Public",
        [$"Clients:{NumberMatchingClient}:GrantTypes:0"] = "urn:ietf:params:oauth:grant-type:device_code",
        [$"Clients:{NumberMatchingClient}:Scopes:0"] = "openid",
        [$"Clients:{NumberMatchingClient}:NumberMatching"] = "true",
    }));

    public PhoneAppServer()
    {
        // The first requests of a fresh server compile its pages; a busy machine must not spend a test's bound on that.
        using var warm = Server.CreateDevice();
        foreach (var path in new[] { "/phone/", "/Identity/Account/Login", "/" })
            warm.GetAsync(path).GetAwaiter().GetResult().Dispose();
    }

    public void Dispose() => Server.Dispose();
}

/// <summary>
/// The phone web app at <c>/phone/</c> in real Chromium: sign-in through the real sign-in page (code + PKCE + DPoP),
/// the typed-code fallback, the confirm screen, the errors, and linked devices. The camera tests are in
/// <see cref="PhoneCameraTests"/>, which need a browser of their own.
/// </summary>
public sealed partial class PhoneAppTests(BrowserFixture browser, PhoneAppServer fixture)
    : BrowserTest(browser, fixture.Server), IClassFixture<PhoneAppServer>
{
    public const string ChromeOnLinux =
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36";

    [Fact]
    public Task Typing_the_code_shows_the_question_first_and_approving_signs_the_screen_in() => InBrowserAsync(async page =>
    {
        using var device = ChromeDevice();
        var started = await device.StartAsync(deviceName: "Office PC");
        var userCode = started.Get("user_code");
        await PhoneAppSteps.SignInAsync(Server, page);
        await PhoneAppSteps.SaveScreenshotAsync(page, "phone-home.png");

        await TypeCodeAsync(page, userCode);

        await Expect(page.GetByTestId("question")).ToHaveTextAsync("Sign in on Chrome on Linux?");
        await PhoneAppSteps.SaveScreenshotAsync(page, "phone-confirm.png");
        await Expect(page.GetByTestId("client")).ToHaveTextAsync("Demo TV wants to sign in to your account.");
        await Expect(page.GetByTestId("device-name")).ToHaveTextAsync("Office PC");
        await Expect(page.GetByTestId("ip")).ToHaveTextAsync("127.0.0.1");
        await Expect(page.GetByTestId("user-code")).ToHaveTextAsync(userCode);
        (await page.GetByTestId("user-code").EvaluateAsync<string>("e => getComputedStyle(e).whiteSpace")).ShouldBe("nowrap");
        // The time asked, formatted by the browser in its own zone (this context's is UTC, en-US).
        var asked = (await page.GetByTestId("asked").TextContentAsync())!;
        asked.ShouldMatch(@"^\d{1,2}/\d{1,2}/\d{4}, \d{1,2}:\d{2}:\d{2} (AM|PM)$");
        // The raw agent is there, but folded away under Details.
        await Expect(page.GetByTestId("user-agent")).ToBeHiddenAsync();
        await page.GetByTestId("details").Locator("summary").ClickAsync();
        await Expect(page.GetByTestId("user-agent")).ToHaveTextAsync(ChromeOnLinux);
        await Expect(page.GetByTestId("scopes")).ToContainTextAsync("Use the API on your behalf");
        await Expect(page.GetByTestId("scopes")).ToContainTextAsync("Stay signed in on this device until you log it out");
        // Deny is as prominent as Approve: the same size, side by side.
        var deny = (await page.GetByTestId("deny").BoundingBoxAsync())!;
        var approve = (await page.GetByTestId("approve").BoundingBoxAsync())!;
        deny.Width.ShouldBe(approve.Width, 1);
        deny.Height.ShouldBe(approve.Height, 1);
        deny.Y.ShouldBe(approve.Y, 1);

        await page.GetByTestId("approve").ClickAsync();
        await Expect(page.GetByTestId("result")).ToHaveTextAsync("Chrome on Linux is signed in. You can go back to it.");
        var tokens = await device.PollAsync(started.Get("device_code"));
        tokens.Status.ShouldBe(HttpStatusCode.OK, tokens.Json.ToString());
        tokens.Get("access_token").ShouldNotBeNullOrWhiteSpace();
        // The phone's tokens are nowhere a script of another page could read them by name.
        (await page.EvaluateAsync<int>("() => localStorage.length")).ShouldBe(0);
    });

    [Fact]
    public Task Denying_tells_the_screen_access_denied() => InBrowserAsync(async page =>
    {
        using var device = ChromeDevice();
        var started = await device.StartAsync(deviceName: "Office PC");
        await PhoneAppSteps.SignInAsync(Server, page);

        await TypeCodeAsync(page, started.Get("user_code"));
        await page.GetByTestId("deny").ClickAsync();

        await Expect(page.GetByTestId("result")).ToHaveTextAsync("Chrome on Linux will not be signed in.");
        (await device.PollAsync(started.Get("device_code"))).Error.ShouldBe("access_denied");
    });

    [Fact]
    public Task Number_matching_offers_the_three_numbers_instead_of_approve_and_the_screens_number_approves() => InBrowserAsync(async page =>
    {
        using var device = ChromeDevice();
        var started = await device.StartAsync(clientId: PhoneAppServer.NumberMatchingClient, scope: "openid");
        using var stream = await EventStream.OpenAsync(device, started.Get("device_code"), PhoneAppServer.NumberMatchingClient);
        await stream.ExpectEventAsync("pending", 0);
        await PhoneAppSteps.SignInAsync(Server, page);

        await TypeCodeAsync(page, started.Get("user_code"));

        var scanned = await stream.ExpectEventAsync("scanned", 1);
        var number = scanned.Number!.Value;
        await Expect(page.GetByTestId("numbers").GetByRole(AriaRole.Button)).ToHaveCountAsync(3);
        await Expect(page.GetByTestId($"number-{number}")).ToBeVisibleAsync();
        await Expect(page.GetByTestId("approve")).ToBeHiddenAsync();
        await Expect(page.GetByTestId("deny")).ToBeVisibleAsync();
        await page.GetByTestId($"number-{number}").ClickAsync();

        await Expect(page.GetByTestId("result")).ToHaveTextAsync("Chrome on Linux is signed in. You can go back to it.");
        (await device.PollAsync(started.Get("device_code"), PhoneAppServer.NumberMatchingClient)).Status.ShouldBe(HttpStatusCode.OK);
    });

    [Fact]
    public Task An_expired_code_says_so_and_offers_to_scan_again() => InBrowserAsync(async page =>
    {
        using var device = ChromeDevice();
        var started = await device.StartAsync(clientId: PhoneAppServer.ShortLivedClient, scope: "openid");
        await PhoneAppSteps.SignInAsync(Server, page);
        Server.Clock.Advance(PhoneAppServer.ShortLifetime);

        await TypeCodeAsync(page, started.Get("user_code"));

        await Expect(page.GetByTestId("error-title")).ToHaveTextAsync("Code expired");
        await Expect(page.GetByTestId("error-text")).ToContainTextAsync("Scan the code the other screen shows now.");
        await Expect(page.GetByTestId("error-action-0")).ToHaveTextAsync("Try again");
        await page.GetByTestId("error-action-1").ClickAsync();
        await Expect(page.GetByTestId("scan")).ToBeVisibleAsync();
    });

    [Fact]
    public Task A_code_already_used_says_so() => InBrowserAsync(async page =>
    {
        using var device = ChromeDevice();
        var started = await SignInAndApproveAsync(page, device);
        await page.GetByTestId("done").ClickAsync();

        await TypeCodeAsync(page, started.Get("user_code"));

        await Expect(page.GetByTestId("error-title")).ToHaveTextAsync("Code already used");
        await Expect(page.GetByTestId("error-text")).ToContainTextAsync("already been approved or denied");
    });

    [Fact]
    public Task A_code_that_is_no_sign_in_says_so_and_offers_to_type_it_again() => InBrowserAsync(async page =>
    {
        await PhoneAppSteps.SignInAsync(Server, page);

        await TypeCodeAsync(page, "BCDF-GHJK");

        await Expect(page.GetByTestId("error-title")).ToHaveTextAsync("Not a sign-in code");
        await page.GetByTestId("error-action-1").ClickAsync();
        await Expect(page.GetByTestId("code-input")).ToBeVisibleAsync();
    });

    [Fact]
    public Task Offline_the_app_says_so_and_try_again_goes_on_once_back_online() => InBrowserAsync(async page =>
    {
        using var device = ChromeDevice();
        var started = await device.StartAsync(deviceName: "Office PC");
        await PhoneAppSteps.SignInAsync(Server, page);

        await page.Context.SetOfflineAsync(true);
        await Expect(page.GetByTestId("offline-banner")).ToHaveTextAsync("You are offline.");
        await TypeCodeAsync(page, started.Get("user_code"));
        await Expect(page.GetByTestId("error-title")).ToHaveTextAsync("You are offline");

        await page.Context.SetOfflineAsync(false);
        await Expect(page.GetByTestId("offline-banner")).ToBeHiddenAsync();
        await page.GetByTestId("error-action-0").ClickAsync();
        await Expect(page.GetByTestId("question")).ToHaveTextAsync("Sign in on Chrome on Linux?");
    });

    [Fact]
    public Task Without_a_camera_the_app_says_so_and_offers_to_type_the_code() => InBrowserAsync(async page =>
    {
        // This browser has no fake camera, and the container has none: access is granted, but there is nothing to open.
        await page.Context.GrantPermissionsAsync(["camera"]);
        await PhoneAppSteps.SignInAsync(Server, page);

        await page.GetByTestId("scan").ClickAsync();

        await Expect(page.GetByTestId("error-title")).ToHaveTextAsync("No camera found");
        await page.GetByTestId("error-action-0").ClickAsync();
        await Expect(page.GetByTestId("code-input")).ToBeVisibleAsync();
    });

    [Fact]
    public Task A_refused_camera_says_so_and_offers_to_try_again_or_type_the_code() => InBrowserAsync(async page =>
    {
        await PhoneAppSteps.SignInAsync(Server, page);
        // The user said no to the camera for this site: Chromium's own permission setting, through CDP.
        var cdp = await page.Context.NewCDPSessionAsync(page);
        var target = await cdp.SendAsync("Target.getTargetInfo");
        await cdp.SendAsync("Browser.setPermission", new Dictionary<string, object>
        {
            ["permission"] = new Dictionary<string, object> { ["name"] = "camera" },
            ["setting"] = "denied",
            ["origin"] = Server.BaseAddress.GetLeftPart(UriPartial.Authority),
            ["browserContextId"] = target!.Value.GetProperty("targetInfo").GetProperty("browserContextId").GetString()!,
        });
        (await page.EvaluateAsync<string>("async () => (await navigator.permissions.query({ name: 'camera' })).state")).ShouldBe("denied");

        await page.GetByTestId("scan").ClickAsync();

        await Expect(page.GetByTestId("error-title")).ToHaveTextAsync("Camera access is off");
        await Expect(page.GetByTestId("error-action-0")).ToHaveTextAsync("Try again");
        await page.GetByTestId("error-action-1").ClickAsync();
        await Expect(page.GetByTestId("code-input")).ToBeVisibleAsync();
    });

    [Fact]
    public Task Linked_devices_shows_local_times_and_logs_a_device_out() => InBrowserAsync(async page =>
    {
        using var device = ChromeDevice();
        var started = await SignInAndApproveAsync(page, device);
        var tokens = await device.PollAsync(started.Get("device_code"));
        tokens.Status.ShouldBe(HttpStatusCode.OK, tokens.Json.ToString());
        await page.GetByTestId("done").ClickAsync();

        await page.GetByTestId("devices").ClickAsync();

        var office = page.GetByTestId("device").Filter(new() { HasText = "Office PC" });
        await Expect(office).ToHaveCountAsync(1);
        await Expect(office.GetByTestId("last-used")).ToHaveTextAsync(LocalTime());
        var self = page.GetByTestId("device").Filter(new() { HasText = "This phone" });
        await Expect(self).ToContainTextAsync("AuthServer app");
        await office.GetByTestId("log-out").ClickAsync();
        await Expect(office).ToHaveCountAsync(0);
        await Expect(self).ToHaveCountAsync(1);
        (await device.RefreshAsync(tokens.Get("refresh_token"))).Error.ShouldBe("invalid_grant");
    });

    [Fact]
    public Task The_phone_stays_signed_in_across_reloads_and_sign_out_logs_it_out() => InBrowserAsync(async page =>
    {
        await PhoneAppSteps.SignInAsync(Server, page);

        await page.ReloadAsync();
        await Expect(page.GetByTestId("account")).ToHaveTextAsync(new Regex("^Signed in as "));
        // A reload loses the access token (memory only): listing the devices needs a refresh with the DPoP key.
        await page.GetByTestId("devices").ClickAsync();
        await Expect(page.GetByTestId("device").Filter(new() { HasText = "This phone" })).ToHaveCountAsync(1);
        await page.GetByText("Back").ClickAsync();

        await page.GetByTestId("sign-out").ClickAsync();
        await Expect(page.GetByTestId("sign-in")).ToBeVisibleAsync();
        await page.ReloadAsync();
        await Expect(page.GetByTestId("sign-in")).ToBeVisibleAsync();
    });

    private HttpClient ChromeDevice()
    {
        var device = Server.CreateDevice();
        device.DefaultRequestHeaders.TryAddWithoutValidation("User-Agent", ChromeOnLinux);
        return device;
    }

    /// <summary>Last used in en-US local form, as <c>toLocaleString</c> writes it.</summary>
    private static Regex LocalTime() => LocalTimePattern();

    [GeneratedRegex(@"^Last used \d{1,2}/\d{1,2}/\d{4}, \d{1,2}:\d{2}:\d{2} (AM|PM)$")]
    private static partial Regex LocalTimePattern();

    /// <summary>A device asks to sign in as "Office PC"; the phone app signs in, takes its code and approves it.</summary>
    private async Task<AuthServer.Tests.Infrastructure.Protocol.Answer> SignInAndApproveAsync(IPage page, HttpClient device)
    {
        var started = await device.StartAsync(deviceName: "Office PC");
        await PhoneAppSteps.SignInAsync(Server, page);
        await TypeCodeAsync(page, started.Get("user_code"));
        await page.GetByTestId("approve").ClickAsync();
        await Expect(page.GetByTestId("result")).ToContainTextAsync("is signed in");
        return started;
    }

    private static async Task TypeCodeAsync(IPage page, string code)
    {
        await page.GetByTestId("type-code").ClickAsync();
        await page.GetByTestId("code-input").FillAsync(code);
        await page.GetByTestId("code-submit").ClickAsync();
    }
}

/// <summary>Steps of the phone app that its tests share.</summary>
public static class PhoneAppSteps
{
    /// <summary>A phone's viewport in CSS pixels.</summary>
    public const int PhoneWidth = 390;
    public const int PhoneHeight = 844;

    /// <summary>
    /// With <c>AUTHSERVER_PHONE_SCREENSHOTS</c> set to a folder (docs/images to refresh the docs' pictures), saves what
    /// the phone shows there; otherwise does nothing.
    /// </summary>
    public static async Task SaveScreenshotAsync(IPage page, string name)
    {
        if (Environment.GetEnvironmentVariable("AUTHSERVER_PHONE_SCREENSHOTS") is not { Length: > 0 } folder) return;
        await page.ScreenshotAsync(new() { Path = Path.Combine(folder, name), FullPage = true });
    }

    /// <summary>
    /// Opens the app and signs in as the demo user through the real sign-in page, as a person would. First the
    /// server's fake clock catches up with real time: the browser dates its DPoP proofs with the real clock, and the
    /// server accepts them within a minute of its own.
    /// </summary>
    public static async Task SignInAsync(LiveServer server, IPage page)
    {
        var real = DateTimeOffset.UtcNow;
        if (real > server.Clock.GetUtcNow()) server.Clock.SetUtcNow(real);
        await page.SetViewportSizeAsync(PhoneWidth, PhoneHeight);
        await page.GotoAsync("/phone/", new() { Timeout = 30_000 });
        await page.GetByTestId("sign-in").ClickAsync();
        await Expect(page).ToHaveURLAsync(new Regex("/Identity/Account/Login"));
        var form = page.Locator("form", new() { Has = page.Locator("[name='Input.Email']") });
        await form.Locator("[name='Input.Email']").FillAsync(AuthServerFactory.DemoEmail);
        await form.Locator("[name='Input.Password']").FillAsync(AuthServerFactory.DemoPassword);
        await form.Locator("button[type=submit]").ClickAsync();
        await Expect(page.GetByTestId("account")).ToHaveTextAsync(new Regex("^Signed in as "));
        // The code left the address bar and the history.
        page.Url.ShouldBe(server.Url("phone/"));
    }
}
