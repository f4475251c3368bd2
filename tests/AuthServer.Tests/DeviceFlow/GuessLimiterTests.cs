using System.Net;
using AuthServer.Tests.Infrastructure;

namespace AuthServer.Tests.DeviceFlow;

public sealed class GuessLimiterTests
{
    private static AuthServerFactory Limited(int perMinute) =>
        AuthServerFactory.With(new() { ["AuthServer:UserCodeLookupsPerMinute"] = perMinute.ToString() });

    [Fact]
    public async Task Guessing_is_limited_per_address_across_the_qr_endpoint_and_the_verification_page()
    {
        using var factory = Limited(3);
        var phone = factory.CreateBrowser();
        await phone.SignInAsync();

        // Unknown codes count like any other lookup.
        (await phone.GetAsync("/device/qr?user_code=BCDF-GHJK")).StatusCode.ShouldBe(HttpStatusCode.NotFound);
        (await phone.GetAsync("/device/qr?user_code=BCDF-GHJL")).StatusCode.ShouldBe(HttpStatusCode.NotFound);
        (await phone.GetAsync("/device?user_code=BCDF-GHJM")).StatusCode.ShouldBe(HttpStatusCode.OK);

        var page = await phone.GetAsync("/device?user_code=BCDF-GHJN");
        page.StatusCode.ShouldBe(HttpStatusCode.TooManyRequests);
        int.Parse(page.Headers.GetValues("Retry-After").Single()).ShouldBeInRange(1, 60);
        Browser.Result(await page.Content.ReadAsStringAsync()).ShouldContain("Too many codes were tried");

        var image = await phone.GetAsync("/device/qr?user_code=BCDF-GHJP");
        image.StatusCode.ShouldBe(HttpStatusCode.TooManyRequests);
        image.Content.Headers.ContentType!.MediaType.ShouldBe("application/problem+json");
    }

    [Fact]
    public async Task The_budget_comes_back_when_the_minute_is_over()
    {
        using var factory = Limited(1);
        var http = factory.CreateClient();
        (await http.GetAsync("/device/qr?user_code=BCDF-GHJK")).StatusCode.ShouldBe(HttpStatusCode.NotFound);
        var limited = await http.GetAsync("/device/qr?user_code=BCDF-GHJK");
        limited.StatusCode.ShouldBe(HttpStatusCode.TooManyRequests);
        limited.Headers.GetValues("Retry-After").Single().ShouldBe("60");

        factory.Clock.Advance(TimeSpan.FromSeconds(45));
        (await http.GetAsync("/device/qr?user_code=BCDF-GHJK")).Headers.GetValues("Retry-After").Single().ShouldBe("15");
        factory.Clock.Advance(TimeSpan.FromSeconds(15));
        (await http.GetAsync("/device/qr?user_code=BCDF-GHJK")).StatusCode.ShouldBe(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task The_limit_follows_the_account_across_addresses()
    {
        using var factory = Limited(2);
        var home = factory.CreateBrowser(remoteIp: "198.51.100.1");
        var mobile = factory.CreateBrowser(remoteIp: "198.51.100.2");
        await home.SignInAsync();
        await mobile.SignInAsync();

        (await home.GetAsync("/device?user_code=BCDF-GHJK")).StatusCode.ShouldBe(HttpStatusCode.OK);
        (await home.GetAsync("/device?user_code=BCDF-GHJL")).StatusCode.ShouldBe(HttpStatusCode.OK);

        // A fresh address, the same account: still over budget.
        (await mobile.GetAsync("/device?user_code=BCDF-GHJM")).StatusCode.ShouldBe(HttpStatusCode.TooManyRequests);
    }

    [Fact]
    public async Task The_limit_follows_the_address_across_accounts()
    {
        using var factory = Limited(2);
        var anonymous = factory.CreateClient();
        anonymous.DefaultRequestHeaders.Add(AuthServerFactory.RemoteIpHeader, "198.51.100.7");
        (await anonymous.GetAsync("/device/qr?user_code=BCDF-GHJK")).StatusCode.ShouldBe(HttpStatusCode.NotFound);
        (await anonymous.GetAsync("/device/qr?user_code=BCDF-GHJL")).StatusCode.ShouldBe(HttpStatusCode.NotFound);

        var signedIn = factory.CreateBrowser(remoteIp: "198.51.100.7");
        await signedIn.SignInAsync();
        (await signedIn.GetAsync("/device?user_code=BCDF-GHJM")).StatusCode.ShouldBe(HttpStatusCode.TooManyRequests);

        // The same account from another address is fine: it has used none of its own budget.
        var elsewhere = factory.CreateBrowser(remoteIp: "198.51.100.8");
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
