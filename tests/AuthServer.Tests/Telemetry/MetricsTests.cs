using System.Net;
using AuthServer.Tests.Infrastructure;

namespace AuthServer.Tests.Telemetry;

/// <summary>Our counters move with real flows, through both doors (the page and the phone API).</summary>
public sealed class MetricsTests
{
    [Fact]
    public async Task A_device_login_through_the_page_counts_the_request_the_scan_the_approval_the_polls_and_the_tokens()
    {
        using var factory = new AuthServerFactory();
        using var recorder = new MeterRecorder(factory);
        var device = factory.CreateClient();
        var started = await device.StartAsync();
        var deviceCode = started.Get("device_code");

        (await device.PollAsync(deviceCode)).Error.ShouldBe("authorization_pending");
        factory.Clock.Advance(TimeSpan.FromSeconds(2));
        (await device.PollAsync(deviceCode)).Error.ShouldBe("slow_down");
        await factory.DecideAsDemoUserAsync(started.Get("user_code"), approve: true);
        factory.Clock.Advance(TimeSpan.FromSeconds(11));
        var tokens = await device.PollAsync(deviceCode);
        tokens.Status.ShouldBe(HttpStatusCode.OK, $"body: {tokens.Json}");
        (await device.PollAsync(deviceCode)).Error.ShouldBe("invalid_grant");
        (await device.RefreshAsync(tokens.Get("refresh_token"))).Status.ShouldBe(HttpStatusCode.OK);

        recorder.Sum("authserver.device_authorizations").ShouldBe(1);
        recorder.Sum("authserver.scans", ("door", "page"), ("outcome", "claimed")).ShouldBe(1);
        recorder.Sum("authserver.approvals", ("door", "page")).ShouldBe(1);
        recorder.Sum("authserver.denials").ShouldBe(0);
        recorder.Sum("authserver.polls", ("result", "pending")).ShouldBe(1);
        recorder.Sum("authserver.polls", ("result", "slow_down")).ShouldBe(1);
        recorder.Sum("authserver.polls", ("result", "approved")).ShouldBe(1);
        recorder.Sum("authserver.polls", ("result", "redeemed")).ShouldBe(1);
        recorder.Sum("authserver.tokens_issued", ("grant_type", "device_code")).ShouldBe(1);
        recorder.Sum("authserver.tokens_issued", ("grant_type", "refresh_token")).ShouldBe(1);
    }

    [Fact]
    public async Task A_phone_denial_counts_as_a_phone_scan_and_denial_and_the_screen_polls_denied()
    {
        using var factory = new AuthServerFactory();
        using var recorder = new MeterRecorder(factory);
        var device = factory.CreateClient();
        var started = await device.StartAsync();
        var phone = await PhoneApp.SignInNewAccountAsync(factory);
        var tokensBefore = recorder.Sum("authserver.tokens_issued", ("grant_type", "authorization_code"));
        tokensBefore.ShouldBe(1, "the phone's own sign-in is a code + PKCE token response");

        var scan = await phone.ScanOkAsync(started.Get("user_code"));
        (await phone.DenyAsync(scan.ScanId, scan.ConfirmTicket)).Status.ShouldBe(HttpStatusCode.NoContent);
        (await device.PollAsync(started.Get("device_code"))).Error.ShouldBe("access_denied");

        recorder.Sum("authserver.scans", ("door", "phone"), ("outcome", "claimed")).ShouldBe(1);
        recorder.Sum("authserver.denials", ("door", "phone"), ("reason", "user")).ShouldBe(1);
        recorder.Sum("authserver.approvals").ShouldBe(0);
        recorder.Sum("authserver.polls", ("result", "denied")).ShouldBe(1);
    }

    [Fact]
    public async Task An_expired_request_polls_expired_and_a_refresh_token_reuse_is_counted()
    {
        using var factory = new AuthServerFactory();
        using var recorder = new MeterRecorder(factory);
        var device = factory.CreateClient();
        var started = await device.StartAsync();
        factory.Clock.Advance(TimeSpan.FromMinutes(6));
        (await device.PollAsync(started.Get("device_code"))).Error.ShouldBe("expired_token");
        recorder.Sum("authserver.polls", ("result", "expired")).ShouldBe(1);

        var first = await factory.SignInDeviceAsync();
        (await device.RefreshAsync(first.Get("refresh_token"))).Status.ShouldBe(HttpStatusCode.OK);
        factory.Clock.Advance(TimeSpan.FromSeconds(31));
        (await device.RefreshAsync(first.Get("refresh_token"))).Error.ShouldBe("invalid_grant");

        recorder.Sum("authserver.refresh_token_reuse", ("when", "after_leeway")).ShouldBe(1);
    }

    [Fact]
    public async Task A_refused_user_code_lookup_counts_as_a_rate_limit_hit()
    {
        using var factory = AuthServerFactory.With(new() { ["RateLimits:UserCodeLookupsPerAccount:PermitLimit"] = "1" });
        using var recorder = new MeterRecorder(factory);
        var phone = factory.CreateBrowser();
        await phone.SignInAsync();
        (await phone.GetAsync("/device?user_code=BCDF-GHJK")).StatusCode.ShouldBe(HttpStatusCode.OK);
        recorder.Sum("authserver.rate_limit_hits").ShouldBe(0);

        (await phone.GetAsync("/device?user_code=BCDF-GHJL")).StatusCode.ShouldBe(HttpStatusCode.TooManyRequests);

        recorder.Sum("authserver.rate_limit_hits", ("limiter", "user_code")).ShouldBe(1);
    }

    [Fact]
    public async Task An_open_push_stream_is_counted_until_it_ends()
    {
        using var factory = new AuthServerFactory();
        using var recorder = new MeterRecorder(factory);
        var device = factory.CreateClient();
        var started = await device.StartAsync();

        using (var stream = await EventStream.OpenAsync(device, started.Get("device_code")))
        {
            await stream.ExpectEventAsync("pending", 0);
            recorder.Sum("authserver.push_streams.open").ShouldBe(1);
            await factory.DecideAsDemoUserAsync(started.Get("user_code"), approve: true);
            await stream.ExpectEventAsync("scanned", 1);
            await stream.ExpectEventAsync("approved", 2);
            await stream.ExpectEndAsync();
        }

        // The server counts the stream closed before it ends the response, so the end the test read settles it.
        recorder.Sum("authserver.push_streams.open").ShouldBe(0);
    }
}
