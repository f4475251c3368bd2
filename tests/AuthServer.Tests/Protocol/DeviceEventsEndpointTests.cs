using System.Net;
using System.Text;
using AuthServer.Tests.Infrastructure;

namespace AuthServer.Tests.Protocol;

/// <summary>
/// <c>POST /connect/device/events</c>, the waiting screen's push stream, read as a real HTTP stream from the in-memory
/// server. Time moves only with the fake clock; a test that needs the server asleep on a timer first waits for the
/// timer to be armed (<see cref="TimerWatch"/>), then advances.
/// </summary>
public abstract class DeviceEventsEndpointTests(TimerWatchingFactory factory)
{
    public sealed class OnSqlite(TimerWatchingFactory server) : DeviceEventsEndpointTests(server), IClassFixture<TimerWatchingFactory>;

    public sealed class OnPostgreSql(TimerWatchingFactory.OnPostgreSql server) : DeviceEventsEndpointTests(server), IClassFixture<TimerWatchingFactory.OnPostgreSql>;

    private static readonly TimeSpan PingInterval = TimeSpan.FromSeconds(15);

    private readonly HttpClient _device = factory.CreateClient();

    private async Task<(string DeviceCode, string UserCode, int ExpiresIn)> StartAsync(string? supersededDeviceCode = null)
    {
        var form = new List<(string, string)> { ("client_id", "demo-tv"), ("scope", Infrastructure.Protocol.DemoScopes), ("device_name", "Living room TV") };
        if (supersededDeviceCode is not null) form.Add(("superseded_device_code", supersededDeviceCode));
        var started = await _device.PostFormAsync("/connect/device", [.. form]);
        started.Status.ShouldBe(HttpStatusCode.OK, $"body: {started.Json}");
        return (started.Get("device_code"), started.Get("user_code"), started.Json.GetProperty("expires_in").GetInt32());
    }

    private Task<EventStream> OpenAsync(string deviceCode) => EventStream.OpenAsync(factory.CreateClient(), deviceCode);

    private async Task<Infrastructure.Protocol.Answer> PostAsync(HttpRequestMessage request) =>
        await Infrastructure.Protocol.ReadAsync(await EventStream.SendAsync(factory.CreateClient(), request));

    [Fact]
    public async Task The_stream_is_an_uncached_event_stream_whose_first_event_is_the_current_status()
    {
        var (deviceCode, _, _) = await StartAsync();

        using var stream = await OpenAsync(deviceCode);

        stream.Response.StatusCode.ShouldBe(HttpStatusCode.OK);
        stream.Response.Content.Headers.ContentType!.MediaType.ShouldBe("text/event-stream");
        stream.Response.Headers.CacheControl!.NoStore.ShouldBeTrue();
        var pending = await stream.ExpectEventAsync("pending", id: 0);
        pending.Data.EnumerateObject().Select(p => p.Name).ShouldBe(["status"]);
    }

    [Fact]
    public async Task Connecting_after_the_scan_starts_with_scanned_and_no_account()
    {
        var (deviceCode, userCode, _) = await StartAsync();
        var phone = await PhoneApp.SignInAsync(factory);
        await phone.ScanOkAsync(userCode);

        using var stream = await OpenAsync(deviceCode);

        var scanned = await stream.ExpectEventAsync("scanned", id: 1);
        scanned.Data.EnumerateObject().Select(p => p.Name).ShouldBe(["status"]);
        scanned.Number.ShouldBeNull("demo-tv does not use number matching");
    }

    /// <summary>In device-code phishing the waiting screen is the attacker's (RFC 8628 §5.4): it must not learn who scanned.</summary>
    [Fact]
    public async Task Neither_scanned_nor_approved_says_anything_of_the_account()
    {
        var (deviceCode, userCode, _) = await StartAsync();
        var phone = await PhoneApp.SignInNewAccountAsync(factory);
        using var stream = await OpenAsync(deviceCode);
        await stream.ExpectEventAsync("pending", id: 0);

        var scan = await phone.ScanOkAsync(userCode);
        var scanned = await stream.ExpectEventAsync("scanned", id: 1);
        (await phone.ApproveAsync(scan.ScanId, scan.ConfirmTicket)).Status.ShouldBe(HttpStatusCode.NoContent);
        var approved = await stream.ExpectEventAsync("approved", id: 2);
        await stream.ExpectEndAsync();

        scanned.Account.ShouldBeNull();
        approved.Account.ShouldBeNull();
        scanned.Data.EnumerateObject().Select(p => p.Name).ShouldBe(["status"]);
        approved.Data.EnumerateObject().Select(p => p.Name).ShouldBe(["status"]);
        var at = phone.Email.IndexOf('@');
        foreach (var part in new[] { phone.Email[..at], phone.Email[at..], phone.Email[..1] + "***", "@" })
            stream.Transcript.ShouldNotContain(part, Case.Insensitive);
    }

    [Fact]
    public async Task Events_arrive_in_order_pending_scanned_approved_and_the_stream_ends_after_approved()
    {
        var (deviceCode, userCode, _) = await StartAsync();
        var phone = await PhoneApp.SignInAsync(factory);
        using var stream = await OpenAsync(deviceCode);
        (await stream.ExpectEventAsync("pending", id: 0)).Account.ShouldBeNull();

        var scan = await phone.ScanOkAsync(userCode);
        (await stream.ExpectEventAsync("scanned", id: 1)).Account.ShouldBeNull();

        (await phone.ApproveAsync(scan.ScanId, scan.ConfirmTicket)).Status.ShouldBe(HttpStatusCode.NoContent);
        (await stream.ExpectEventAsync("approved", id: 2)).Account.ShouldBeNull();

        await stream.ExpectEndAsync();
        (await _device.PollAsync(deviceCode)).Status.ShouldBe(HttpStatusCode.OK);
    }

    [Fact]
    public async Task The_verification_page_drives_the_same_events()
    {
        var (deviceCode, userCode, _) = await StartAsync();
        using var stream = await OpenAsync(deviceCode);
        await stream.ExpectEventAsync("pending", id: 0);
        var browser = factory.CreateBrowser();
        await browser.SignInAsync();

        var page = await browser.OpenVerificationAsync(userCode);
        await stream.ExpectEventAsync("scanned", id: 1);
        await browser.DecideAsync(page, userCode, approve: true);
        await stream.ExpectEventAsync("approved", id: 2);
        await stream.ExpectEndAsync();
    }

    [Fact]
    public async Task Denied_ends_the_stream()
    {
        var (deviceCode, userCode, _) = await StartAsync();
        var phone = await PhoneApp.SignInAsync(factory);
        using var stream = await OpenAsync(deviceCode);
        await stream.ExpectEventAsync("pending", id: 0);
        var scan = await phone.ScanOkAsync(userCode);
        await stream.ExpectEventAsync("scanned", id: 1);

        (await phone.DenyAsync(scan.ScanId, scan.ConfirmTicket)).Status.ShouldBe(HttpStatusCode.NoContent);

        var denied = await stream.ExpectEventAsync("denied", id: 2);
        denied.Account.ShouldBeNull();
        await stream.ExpectEndAsync();
    }

    [Fact]
    public async Task Expired_arrives_when_the_clock_passes_expires_in_with_id_version_plus_one_and_ends_the_stream()
    {
        var (deviceCode, _, expiresIn) = await StartAsync();
        var mark = factory.Timers.Mark;
        using var stream = await OpenAsync(deviceCode);
        await stream.ExpectEventAsync("pending", id: 0);
        await factory.Timers.WaitForTimerAsync(mark, PingInterval);

        factory.Clock.Advance(TimeSpan.FromSeconds(expiresIn));

        await stream.ExpectEventAsync("expired", id: 1);
        await stream.ExpectEndAsync();
        (await _device.PollAsync(deviceCode)).Error.ShouldBe("expired_token");
    }

    [Fact]
    public async Task A_scanned_request_that_expires_ends_with_expired_after_scanned()
    {
        var (deviceCode, userCode, expiresIn) = await StartAsync();
        var phone = await PhoneApp.SignInAsync(factory);
        await phone.ScanOkAsync(userCode);
        var mark = factory.Timers.Mark;
        using var stream = await OpenAsync(deviceCode);
        await stream.ExpectEventAsync("scanned", id: 1);
        await factory.Timers.WaitForTimerAsync(mark, PingInterval);

        factory.Clock.Advance(TimeSpan.FromSeconds(expiresIn));

        await stream.ExpectEventAsync("expired", id: 2);
        await stream.ExpectEndAsync();
    }

    [Fact]
    public async Task Superseded_arrives_when_a_new_request_names_this_one_and_ends_the_stream()
    {
        var (deviceCode, _, _) = await StartAsync();
        using var stream = await OpenAsync(deviceCode);
        await stream.ExpectEventAsync("pending", id: 0);

        var (freshCode, _, _) = await StartAsync(supersededDeviceCode: deviceCode);

        await stream.ExpectEventAsync("superseded", id: 1);
        await stream.ExpectEndAsync();
        using var fresh = await OpenAsync(freshCode);
        await fresh.ExpectEventAsync("pending", id: 0);
    }

    [Fact]
    public async Task A_ping_comment_arrives_every_fifteen_seconds_of_quiet_and_the_stream_stays_open()
    {
        var (deviceCode, userCode, _) = await StartAsync();
        var mark = factory.Timers.Mark;
        using var stream = await OpenAsync(deviceCode);
        await stream.ExpectEventAsync("pending", id: 0);
        await factory.Timers.WaitForTimerAsync(mark, PingInterval);

        mark = factory.Timers.Mark;
        factory.Clock.Advance(PingInterval);

        (await stream.ReadLineAsync()).ShouldBe(": ping");
        (await stream.ReadLineAsync()).ShouldBe("");
        await factory.Timers.WaitForTimerAsync(mark, PingInterval);
        factory.Clock.Advance(PingInterval);
        (await stream.ReadLineAsync()).ShouldBe(": ping");

        var phone = await PhoneApp.SignInAsync(factory);
        await phone.ScanOkAsync(userCode);
        await stream.ExpectEventAsync("scanned", id: 1);
    }

    [Fact]
    public async Task The_stream_never_carries_tokens_or_the_device_code()
    {
        var (deviceCode, userCode, _) = await StartAsync();
        var phone = await PhoneApp.SignInAsync(factory);
        using var stream = await OpenAsync(deviceCode);
        await phone.ScanAndApproveAsync(userCode);
        while (await stream.ReadLineAsync() is not null) { }
        var tokens = await _device.PollAsync(deviceCode);
        tokens.Status.ShouldBe(HttpStatusCode.OK);

        // After redemption a reconnecting screen still learns "approved", and nothing more.
        using var after = await OpenAsync(deviceCode);
        var approved = await after.ReadEventAsync();
        approved.ShouldNotBeNull().Name.ShouldBe("approved");
        await after.ExpectEndAsync();

        foreach (var transcript in new[] { stream.Transcript, after.Transcript })
        {
            transcript.ShouldContain("event: approved");
            transcript.ShouldNotContain("token");
            transcript.ShouldNotContain(tokens.Get("access_token"));
            transcript.ShouldNotContain(tokens.Get("refresh_token"));
            transcript.ShouldNotContain(deviceCode);
        }
    }

    [Fact]
    public async Task Reconnecting_with_last_event_id_starts_with_the_current_status()
    {
        var (deviceCode, userCode, _) = await StartAsync();
        var phone = await PhoneApp.SignInAsync(factory);
        await phone.ScanOkAsync(userCode);
        var request = EventStream.Request(deviceCode);
        request.Headers.Add("Last-Event-ID", "0");

        using var response = await EventStream.SendAsync(factory.CreateClient(), request);
        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        using var timeout = new CancellationTokenSource(EventStream.ReadTimeout);
        (await reader.ReadLineAsync(timeout.Token)).ShouldBe("event: scanned");
        (await reader.ReadLineAsync(timeout.Token)).ShouldBe("id: 1");
    }

    // ---- Errors: the same answers as a token poll (RFC 6749 §5.2) ----

    [Fact]
    public async Task An_unknown_device_code_is_400_invalid_grant_in_json()
    {
        var answer = await PostAsync(EventStream.Request("not-a-device-code"));

        answer.Status.ShouldBe(HttpStatusCode.BadRequest);
        answer.Response.Content.Headers.ContentType!.MediaType.ShouldBe("application/json");
        answer.Error.ShouldBe("invalid_grant");
    }

    [Fact]
    public async Task Another_clients_device_code_is_400_invalid_grant()
    {
        var (deviceCode, _, _) = await StartAsync();
        var request = EventStream.Request(deviceCode, clientId: null);
        request.Headers.Authorization = new("Basic", Convert.ToBase64String(
            Encoding.UTF8.GetBytes($"{AuthServerFactory.SecretClientId}:{AuthServerFactory.SecretClientSecret}")));

        var answer = await PostAsync(request);

        answer.Status.ShouldBe(HttpStatusCode.BadRequest);
        answer.Error.ShouldBe("invalid_grant");
        // The owner's stream is unaffected.
        using var stream = await OpenAsync(deviceCode);
        await stream.ExpectEventAsync("pending", id: 0);
    }

    [Fact]
    public async Task A_missing_device_code_is_400_invalid_request()
    {
        var answer = await PostAsync(EventStream.Request(deviceCode: null));

        answer.Status.ShouldBe(HttpStatusCode.BadRequest);
        answer.Error.ShouldBe("invalid_request");
    }

    [Theory]
    [InlineData("no-such-client")]
    [InlineData(null)]
    public async Task An_invalid_client_is_401_invalid_client(string? clientId)
    {
        var (deviceCode, _, _) = await StartAsync();

        var answer = await PostAsync(EventStream.Request(deviceCode, clientId));

        answer.Status.ShouldBe(HttpStatusCode.Unauthorized);
        answer.Error.ShouldBe("invalid_client");
        answer.Response.Headers.WwwAuthenticate.ShouldHaveSingleItem().Scheme.ShouldBe("Basic");
    }

    [Fact]
    public async Task Asking_for_json_is_406()
    {
        var (deviceCode, _, _) = await StartAsync();

        var answer = await PostAsync(EventStream.Request(deviceCode, accept: "application/json"));

        answer.Status.ShouldBe(HttpStatusCode.NotAcceptable);
        answer.Error.ShouldBe("invalid_request");
    }

    [Fact]
    public async Task The_device_code_never_travels_in_the_url_the_endpoint_is_post_only()
    {
        var (deviceCode, _, _) = await StartAsync();

        var response = await factory.CreateClient().GetAsync($"{EventStream.Path}?client_id=demo-tv&device_code={Uri.EscapeDataString(deviceCode)}");

        response.StatusCode.ShouldBeOneOf(HttpStatusCode.MethodNotAllowed, HttpStatusCode.NotFound);
        response.Content.Headers.ContentType?.MediaType.ShouldNotBe("text/event-stream");
    }

    // ---- superseded_device_code on /connect/device (QR rotation) ----

    [Fact]
    public async Task Superseding_another_clients_code_is_400_invalid_grant_and_creates_no_request()
    {
        var (deviceCode, _, _) = await StartAsync();
        var before = await CountRequestsAsync();
        var other = factory.CreateClient();
        other.DefaultRequestHeaders.Authorization = new("Basic", Convert.ToBase64String(
            Encoding.UTF8.GetBytes($"{AuthServerFactory.SecretClientId}:{AuthServerFactory.SecretClientSecret}")));

        var answer = await other.PostFormAsync("/connect/device", ("scope", "openid"), ("superseded_device_code", deviceCode));

        answer.Status.ShouldBe(HttpStatusCode.BadRequest);
        answer.Error.ShouldBe("invalid_grant");
        (await CountRequestsAsync()).ShouldBe(before);
        (await _device.PollAsync(deviceCode)).Error.ShouldBe("authorization_pending");
    }

    [Fact]
    public async Task Superseding_an_unknown_code_is_400_invalid_grant_and_creates_no_request()
    {
        var before = await CountRequestsAsync();

        var answer = await _device.PostFormAsync("/connect/device", ("client_id", "demo-tv"), ("scope", "openid"), ("superseded_device_code", "made-up"));

        answer.Status.ShouldBe(HttpStatusCode.BadRequest);
        answer.Error.ShouldBe("invalid_grant");
        (await CountRequestsAsync()).ShouldBe(before);
    }

    [Fact]
    public async Task A_superseded_requests_poll_is_expired_token()
    {
        var (deviceCode, _, _) = await StartAsync();
        var (freshCode, _, _) = await StartAsync(supersededDeviceCode: deviceCode);

        var poll = await _device.PollAsync(deviceCode);

        poll.Status.ShouldBe(HttpStatusCode.BadRequest);
        poll.Error.ShouldBe("expired_token");
        (await _device.PollAsync(freshCode)).Error.ShouldBe("authorization_pending");
    }

    [Fact]
    public async Task A_scanned_request_can_be_superseded_too()
    {
        var (deviceCode, userCode, _) = await StartAsync();
        var phone = await PhoneApp.SignInAsync(factory);
        await phone.ScanOkAsync(userCode);

        await StartAsync(supersededDeviceCode: deviceCode);

        (await _device.PollAsync(deviceCode)).Error.ShouldBe("expired_token");
    }

    [Fact]
    public async Task The_verification_page_shows_a_superseded_code_as_expired()
    {
        var (deviceCode, userCode, _) = await StartAsync();
        await StartAsync(supersededDeviceCode: deviceCode);
        var browser = factory.CreateBrowser();
        await browser.SignInAsync();

        var page = await browser.OpenVerificationAsync(userCode);

        page.ShouldContain("<h1>Code expired</h1>");
        Browser.Result(page).ShouldBe("This code has expired. Ask the device for a new one.");
    }

    private async Task<long> CountRequestsAsync()
    {
        await using var connection = await factory.OpenDatabaseAsync();
        return await connection.ScalarAsync<long>("SELECT COUNT(*) FROM \"DeviceAuthorizations\"");
    }
}
