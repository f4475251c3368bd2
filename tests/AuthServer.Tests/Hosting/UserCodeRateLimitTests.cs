using System.Net;
using AuthServer.Tests.Infrastructure;

namespace AuthServer.Tests.Hosting;

public sealed class UserCodeRateLimitTests
{
    [Fact]
    public async Task Guessing_user_codes_is_limited_per_address_across_the_qr_endpoint_and_the_verification_page()
    {
        using var factory = AuthServerFactory.With(new() { ["AuthServer:UserCodeLookupsPerMinute"] = "3" });
        var phone = factory.CreateBrowser();
        await phone.SignInAsync();

        // Unknown codes count like any other lookup.
        (await phone.GetAsync("/device/qr?user_code=BCDF-GHJK")).StatusCode.ShouldBe(HttpStatusCode.NotFound);
        (await phone.GetAsync("/device/qr?user_code=BCDF-GHJL")).StatusCode.ShouldBe(HttpStatusCode.NotFound);
        (await phone.GetAsync("/device?user_code=BCDF-GHJM")).StatusCode.ShouldBe(HttpStatusCode.OK);

        var limited = await phone.GetAsync("/device?user_code=BCDF-GHJN");

        limited.StatusCode.ShouldBe(HttpStatusCode.TooManyRequests);
        int.Parse(limited.Headers.GetValues("Retry-After").Single()).ShouldBeInRange(1, 60);
        limited.Content.Headers.ContentType!.MediaType.ShouldBe("application/problem+json");
        (await limited.Content.ReadAsStringAsync()).ShouldContain("Too many attempts");
    }

    [Fact]
    public async Task Polling_the_token_endpoint_is_not_counted_as_guessing()
    {
        using var factory = AuthServerFactory.With(new() { ["AuthServer:UserCodeLookupsPerMinute"] = "1" });
        var device = factory.CreateClient();
        var deviceCode = (await device.StartAsync()).Get("device_code");

        for (var i = 0; i < 3; i++)
        {
            (await device.PollAsync(deviceCode)).Error.ShouldNotBeNull();
            factory.Clock.Advance(TimeSpan.FromSeconds(5));
        }
        (await device.PollAsync(deviceCode)).Error.ShouldBe("authorization_pending");
    }
}
