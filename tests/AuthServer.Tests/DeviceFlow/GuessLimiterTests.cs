using System.Net;
using AuthServer.DeviceFlow;
using AuthServer.Tests.Infrastructure;

namespace AuthServer.Tests.DeviceFlow;

public sealed class GuessLimiterTests
{
    private static AuthServerFactory Limited(int perMinute) => AuthServerFactory.With(new()
    {
        ["RateLimits:UserCodeLookupsPerAccount:PermitLimit"] = perMinute.ToString(),
        ["RateLimits:UserCodeLookupsPerNetwork:PermitLimit"] = perMinute.ToString(),
    });

    private static AuthServerFactory LimitedPerAccount(int perMinute) =>
        AuthServerFactory.With(new() { ["RateLimits:UserCodeLookupsPerAccount:PermitLimit"] = perMinute.ToString() });

    private static AuthServerFactory LimitedPerNetwork(int perMinute) =>
        AuthServerFactory.With(new() { ["RateLimits:UserCodeLookupsPerNetwork:PermitLimit"] = perMinute.ToString() });

    [Fact]
    public async Task Guessing_on_the_verification_page_is_limited_unknown_codes_included()
    {
        using var factory = Limited(3);
        var phone = factory.CreateBrowser();
        await phone.SignInAsync();

        // Unknown codes count like any other lookup.
        (await phone.GetAsync("/device?user_code=BCDF-GHJK")).StatusCode.ShouldBe(HttpStatusCode.OK);
        (await phone.GetAsync("/device?user_code=BCDF-GHJL")).StatusCode.ShouldBe(HttpStatusCode.OK);
        (await phone.GetAsync("/device?user_code=BCDF-GHJM")).StatusCode.ShouldBe(HttpStatusCode.OK);

        var page = await phone.GetAsync("/device?user_code=BCDF-GHJN");
        page.StatusCode.ShouldBe(HttpStatusCode.TooManyRequests);
        int.Parse(page.Headers.GetValues("Retry-After").Single()).ShouldBeInRange(1, 60);
        Browser.Result(await page.Content.ReadAsStringAsync()).ShouldContain("Too many codes were tried");
    }

    [Fact]
    public async Task Qr_code_fetches_never_hit_the_limit_and_leave_the_page_its_whole_budget()
    {
        using var factory = Limited(2);
        var screens = factory.CreateBrowser(remoteIp: "198.51.100.9");
        // Many waiting screens behind one address, each fetching its own QR code, some of them more than once.
        for (var i = 0; i < 10; i++)
        {
            var image = await screens.GetAsync($"/device/qr?user_code=BCDF-{UserCode.Alphabet.Substring(i % 3, 4)}");
            image.StatusCode.ShouldBe(HttpStatusCode.OK);
            image.Content.Headers.ContentType!.MediaType.ShouldBe("image/png");
        }

        var phone = factory.CreateBrowser(remoteIp: "198.51.100.9");
        await phone.SignInAsync(await PhoneApp.NewAccountAsync(factory));
        (await phone.GetAsync("/device?user_code=BCDF-GHJK")).StatusCode.ShouldBe(HttpStatusCode.OK);
        var second = await phone.GetAsync("/device?user_code=BCDF-GHJL");
        second.StatusCode.ShouldBe(HttpStatusCode.OK);
        Browser.Result(await second.Content.ReadAsStringAsync()).ShouldNotContain("Too many codes were tried");
        (await phone.GetAsync("/device?user_code=BCDF-GHJM")).StatusCode.ShouldBe(HttpStatusCode.TooManyRequests);
    }

    [Fact]
    public async Task The_budget_comes_back_when_the_minute_is_over()
    {
        using var factory = Limited(1);
        var phone = factory.CreateBrowser();
        await phone.SignInAsync();
        (await phone.GetAsync("/device?user_code=BCDF-GHJK")).StatusCode.ShouldBe(HttpStatusCode.OK);
        var limited = await phone.GetAsync("/device?user_code=BCDF-GHJK");
        limited.StatusCode.ShouldBe(HttpStatusCode.TooManyRequests);
        limited.Headers.GetValues("Retry-After").Single().ShouldBe("60");

        factory.Clock.Advance(TimeSpan.FromSeconds(45));
        (await phone.GetAsync("/device?user_code=BCDF-GHJK")).Headers.GetValues("Retry-After").Single().ShouldBe("15");
        factory.Clock.Advance(TimeSpan.FromSeconds(15));
        var again = await phone.GetAsync("/device?user_code=BCDF-GHJK");
        again.StatusCode.ShouldBe(HttpStatusCode.OK);
        Browser.Result(await again.Content.ReadAsStringAsync()).ShouldNotContain("Too many codes were tried");
    }

    [Fact]
    public async Task The_limit_follows_the_account_across_networks()
    {
        using var factory = LimitedPerAccount(2);
        var home = factory.CreateBrowser(remoteIp: "198.51.100.1");
        var mobile = factory.CreateBrowser(remoteIp: "203.0.113.2");
        await home.SignInAsync();
        await mobile.SignInAsync();

        (await home.GetAsync("/device?user_code=BCDF-GHJK")).StatusCode.ShouldBe(HttpStatusCode.OK);
        (await home.GetAsync("/device?user_code=BCDF-GHJL")).StatusCode.ShouldBe(HttpStatusCode.OK);

        // A fresh network, the same account: still over budget.
        var limited = await mobile.GetAsync("/device?user_code=BCDF-GHJM");
        limited.StatusCode.ShouldBe(HttpStatusCode.TooManyRequests);
        Browser.Result(await limited.Content.ReadAsStringAsync()).ShouldContain("Too many codes were tried");
    }

    [Fact]
    public async Task The_limit_follows_the_network_across_accounts()
    {
        using var factory = LimitedPerNetwork(2);
        var first = factory.CreateBrowser(remoteIp: "198.51.100.7");
        await first.SignInAsync(await PhoneApp.NewAccountAsync(factory));
        (await first.GetAsync("/device?user_code=BCDF-GHJK")).StatusCode.ShouldBe(HttpStatusCode.OK);
        (await first.GetAsync("/device?user_code=BCDF-GHJL")).StatusCode.ShouldBe(HttpStatusCode.OK);

        var signedIn = factory.CreateBrowser(remoteIp: "198.51.100.7");
        await signedIn.SignInAsync();
        (await signedIn.GetAsync("/device?user_code=BCDF-GHJM")).StatusCode.ShouldBe(HttpStatusCode.TooManyRequests);

        // The same account from another network is fine: that network has used none of its budget.
        var elsewhere = factory.CreateBrowser(remoteIp: "203.0.113.8");
        await elsewhere.SignInAsync();
        (await elsewhere.GetAsync("/device?user_code=BCDF-GHJN")).StatusCode.ShouldBe(HttpStatusCode.OK);
    }

    [Fact]
    public async Task Polling_the_token_endpoint_is_not_counted_as_guessing()
    {
        using var factory = Limited(1);
        var device = factory.CreateClient();
        var deviceCode = (await device.StartAsync()).Get("device_code");

        for (var i = 0; i < 3; i++)
        {
            (await device.PollAsync(deviceCode)).Error.ShouldBe("authorization_pending");
            factory.Clock.Advance(TimeSpan.FromSeconds(5));
        }
    }
}
