using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using AuthServer.Tests.Infrastructure;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.IdentityModel.JsonWebTokens;

namespace AuthServer.Tests.Phone;

/// <summary>The waiting screen's side of a test: its own client, address and user agent.</summary>
internal sealed record Screen(HttpClient Http, string DeviceCode, string UserCode, string VerificationUriComplete, int ExpiresIn)
{
    public const string UserAgent = "DemoTV/1.0 (living room)";

    public static HttpClient Client(AuthServerFactory factory, string? remoteIp = null)
    {
        var http = factory.CreateClient();
        http.DefaultRequestHeaders.UserAgent.ParseAdd(UserAgent);
        if (remoteIp is not null) http.DefaultRequestHeaders.Add(AuthServerFactory.RemoteIpHeader, remoteIp);
        return http;
    }

    public static async Task<Screen> StartAsync(AuthServerFactory factory, string? remoteIp = null, HttpClient? http = null,
        params (string Key, string Value)[] extra)
    {
        http ??= Client(factory, remoteIp);
        var started = await http.PostFormAsync("/connect/device",
            [("client_id", "demo-tv"), ("scope", Infrastructure.Protocol.DemoScopes), ("device_name", "Living room TV"), .. extra]);
        started.Status.ShouldBe(HttpStatusCode.OK, $"body: {started.Json}");
        return new Screen(http, started.Get("device_code"), started.Get("user_code"), started.Get("verification_uri_complete"),
            started.Json.GetProperty("expires_in").GetInt32());
    }

    public Task<Infrastructure.Protocol.Answer> PollAsync() => Http.PollAsync(DeviceCode);
}

public abstract class PhoneApiTests(AuthServerFactory factory)
{
    public sealed class OnSqlite(AuthServerFactory server) : PhoneApiTests(server), IClassFixture<AuthServerFactory>;

    public sealed class OnPostgreSql(PostgreSqlAuthServerFactory server) : PhoneApiTests(server), IClassFixture<PostgreSqlAuthServerFactory>;

    private Task<Screen> StartAsync(string? remoteIp = null) => Screen.StartAsync(factory, remoteIp);

    private Task<PhoneApp> PhoneAsync() => PhoneApp.SignInAsync(factory);

    // ---- Scan ----

    [Fact]
    public async Task Scanning_the_user_code_claims_the_request_and_shows_who_is_asking()
    {
        var askedAt = factory.Clock.GetUtcNow();
        var screen = await StartAsync(remoteIp: "198.51.100.7");
        var phone = await PhoneAsync();

        var scan = await phone.ScanAsync(screen.UserCode);

        scan.Status.ShouldBe(HttpStatusCode.Created);
        scan.Response.Content.Headers.ContentType!.MediaType.ShouldBe("application/json");
        var json = scan.Json;
        json.GetProperty("scan_id").GetString().ShouldNotBeNullOrEmpty();
        json.GetProperty("confirm_ticket").GetString().ShouldNotBeNullOrEmpty();
        json.GetProperty("user_code").GetString().ShouldBe(screen.UserCode);
        json.GetProperty("client").GetProperty("id").GetString().ShouldBe("demo-tv");
        json.GetProperty("client").GetProperty("name").GetString().ShouldBe("Demo TV");
        var requester = json.GetProperty("requester");
        requester.GetProperty("device_name").GetString().ShouldBe("Living room TV");
        requester.GetProperty("user_agent").GetString().ShouldBe(Screen.UserAgent);
        requester.GetProperty("ip").GetString().ShouldBe("198.51.100.7");
        requester.GetProperty("created_at").GetDateTimeOffset().ShouldBe(askedAt);
        json.GetProperty("scopes").EnumerateArray().Select(s => s.GetString()).ShouldBe(["openid", "profile", "offline_access", "api"]);
        // The confirm ticket lives two minutes.
        json.GetProperty("expires_at").GetDateTimeOffset().ShouldBe(askedAt + TimeSpan.FromMinutes(2));
        json.TryGetProperty("number_choices", out _).ShouldBeFalse("demo-tv does not use number matching");
    }

    [Fact]
    public async Task Scanning_the_whole_verification_uri_complete_works_like_the_user_code()
    {
        var screen = await StartAsync();
        var phone = await PhoneAsync();

        var scan = await phone.ScanAsync(screen.VerificationUriComplete);

        scan.Status.ShouldBe(HttpStatusCode.Created);
        scan.Get("user_code").ShouldBe(screen.UserCode);
        scan.Get("confirm_ticket").ShouldNotBeNullOrEmpty();
    }

    [Theory]
    [InlineData("lower-case")]
    [InlineData("dashless")]
    [InlineData("lower-case and dashless")]
    [InlineData("spaces around")]
    public async Task Scanning_a_typed_code_ignores_case_dashes_and_spaces(string typing)
    {
        var screen = await StartAsync();
        var phone = await PhoneAsync();
        var typed = typing switch
        {
            "lower-case" => screen.UserCode.ToLowerInvariant(),
            "dashless" => screen.UserCode.Replace("-", ""),
            "lower-case and dashless" => screen.UserCode.Replace("-", "").ToLowerInvariant(),
            _ => $"  {screen.UserCode}  ",
        };

        var scan = await phone.ScanAsync(typed);

        scan.Status.ShouldBe(HttpStatusCode.Created);
        scan.Get("user_code").ShouldBe(screen.UserCode);
    }

    [Fact]
    public async Task A_scanned_request_is_still_pending_for_the_device_and_its_stream_says_scanned()
    {
        var screen = await StartAsync();
        var phone = await PhoneAsync();
        await phone.ScanOkAsync(screen.UserCode);

        var poll = await screen.PollAsync();
        poll.Status.ShouldBe(HttpStatusCode.BadRequest);
        poll.Error.ShouldBe("authorization_pending");

        using var stream = await EventStream.OpenAsync(factory.CreateClient(), screen.DeviceCode);
        var scanned = await stream.ExpectEventAsync("scanned", id: 1);
        scanned.Account.ShouldBeNull("the waiting screen is not told who scanned");
    }

    // ---- Approve and deny ----

    [Fact]
    public async Task Approving_with_the_ticket_is_204_and_the_device_gets_its_own_tokens()
    {
        var screen = await StartAsync();
        var phone = await PhoneAsync();
        var scan = await phone.ScanOkAsync(screen.UserCode);

        var approve = await phone.ApproveAsync(scan.ScanId, scan.ConfirmTicket);

        approve.Status.ShouldBe(HttpStatusCode.NoContent);
        (await approve.Response.Content.ReadAsStringAsync()).ShouldBeEmpty();
        var tokens = await screen.PollAsync();
        tokens.Status.ShouldBe(HttpStatusCode.OK);
        var access = new JsonWebToken(tokens.Get("access_token"));
        access.GetClaim("client_id").Value.ShouldBe("demo-tv");
        // The screen's token is bound to the screen's own device, never to the phone's.
        access.GetClaim("device_id").Value.ShouldNotBe(phone.DeviceId);
        access.Subject.ShouldBe(new JsonWebToken(phone.AccessToken).Subject);
    }

    [Fact]
    public async Task Denying_with_the_ticket_is_204_and_the_device_gets_access_denied()
    {
        var screen = await StartAsync();
        var phone = await PhoneAsync();
        var scan = await phone.ScanOkAsync(screen.UserCode);

        var deny = await phone.DenyAsync(scan.ScanId, scan.ConfirmTicket);

        deny.Status.ShouldBe(HttpStatusCode.NoContent);
        var poll = await screen.PollAsync();
        poll.Status.ShouldBe(HttpStatusCode.BadRequest);
        poll.Error.ShouldBe("access_denied");
    }

    // ---- 404, 410 ----

    [Theory]
    [InlineData("BCDF-GHJK")]
    [InlineData("not a code")]
    [InlineData("https://elsewhere.example/device?user_code=BCDF-GHJK")]
    [InlineData("https://elsewhere.example/device")]
    public async Task Scanning_an_unknown_code_is_404(string code)
    {
        var phone = await PhoneAsync();

        (await phone.ScanAsync(code)).ShouldBeProblem(HttpStatusCode.NotFound, "Unknown code");
    }

    [Fact]
    public async Task Deciding_an_unknown_scan_is_404()
    {
        var phone = await PhoneAsync();

        (await phone.ApproveAsync("no-such-scan", "some-ticket")).ShouldBeProblem(HttpStatusCode.NotFound, "Unknown scan");
        (await phone.DenyAsync("no-such-scan", "some-ticket")).ShouldBeProblem(HttpStatusCode.NotFound, "Unknown scan");
    }

    [Fact]
    public async Task Scanning_an_expired_request_is_410()
    {
        var screen = await StartAsync();
        var phone = await PhoneAsync();
        factory.Clock.Advance(TimeSpan.FromSeconds(screen.ExpiresIn));

        (await phone.ScanAsync(screen.UserCode)).ShouldBeProblem(HttpStatusCode.Gone, "Request closed");
    }

    [Fact]
    public async Task Approving_a_request_that_expired_after_the_scan_is_410()
    {
        var screen = await StartAsync();
        var phone = await PhoneAsync();
        var scan = await phone.ScanOkAsync(screen.UserCode);
        // A fresh ticket a minute before the end is capped at the request's own expiry.
        factory.Clock.Advance(TimeSpan.FromSeconds(screen.ExpiresIn - 60));
        scan = await phone.ScanOkAsync(screen.UserCode);
        scan.Answer.Json.GetProperty("expires_at").GetDateTimeOffset().ShouldBe(factory.Clock.GetUtcNow() + TimeSpan.FromSeconds(60));
        factory.Clock.Advance(TimeSpan.FromSeconds(60));

        (await phone.ApproveAsync(scan.ScanId, scan.ConfirmTicket)).ShouldBeProblem(HttpStatusCode.Gone, "Request closed");
        (await screen.PollAsync()).Error.ShouldBe("expired_token");
    }

    [Fact]
    public async Task Scanning_or_approving_a_superseded_request_is_410()
    {
        var old = await StartAsync();
        var phone = await PhoneAsync();
        var scan = await phone.ScanOkAsync(old.UserCode);
        var other = await StartAsync();
        await Screen.StartAsync(factory, http: old.Http, extra: [("superseded_device_code", old.DeviceCode)]);

        (await phone.ApproveAsync(scan.ScanId, scan.ConfirmTicket)).ShouldBeProblem(HttpStatusCode.Gone, "Request closed");
        (await phone.ScanAsync(old.UserCode)).ShouldBeProblem(HttpStatusCode.Gone, "Request closed");
        // Only the named request was replaced.
        (await phone.ScanAsync(other.UserCode)).Status.ShouldBe(HttpStatusCode.Created);
    }

    [Fact]
    public async Task Scanning_an_already_decided_request_is_410()
    {
        var phone = await PhoneAsync();
        var approved = await StartAsync();
        await phone.ScanAndApproveAsync(approved.UserCode);
        var denied = await StartAsync();
        var scan = await phone.ScanOkAsync(denied.UserCode);
        (await phone.DenyAsync(scan.ScanId, scan.ConfirmTicket)).Status.ShouldBe(HttpStatusCode.NoContent);
        var redeemed = await StartAsync();
        await phone.ScanAndApproveAsync(redeemed.UserCode);
        (await redeemed.PollAsync()).Status.ShouldBe(HttpStatusCode.OK);
        var decidedOnThePage = await StartAsync();
        await factory.DecideAsDemoUserAsync(decidedOnThePage.UserCode, approve: true);

        foreach (var screen in new[] { approved, denied, redeemed, decidedOnThePage })
            (await phone.ScanAsync(screen.UserCode)).ShouldBeProblem(HttpStatusCode.Gone, "Request closed");
    }

    [Fact]
    public async Task Denying_after_approving_is_refused_because_the_ticket_is_spent_and_the_device_still_gets_its_tokens()
    {
        var screen = await StartAsync();
        var phone = await PhoneAsync();
        var scan = await phone.ScanOkAsync(screen.UserCode);
        (await phone.ApproveAsync(scan.ScanId, scan.ConfirmTicket)).Status.ShouldBe(HttpStatusCode.NoContent);

        // The ticket is single-use: whatever the decision was, it is spent (403), and the approval stands.
        (await phone.DenyAsync(scan.ScanId, scan.ConfirmTicket)).ShouldBeProblem(HttpStatusCode.Forbidden, "Invalid confirm ticket");
        (await screen.PollAsync()).Status.ShouldBe(HttpStatusCode.OK);
    }

    // ---- 403: the confirm ticket ----

    [Fact]
    public async Task A_missing_ticket_is_403()
    {
        var screen = await StartAsync();
        var phone = await PhoneAsync();
        var scan = await phone.ScanOkAsync(screen.UserCode);

        (await phone.ApproveAsync(scan.ScanId, confirmTicket: null)).ShouldBeProblem(HttpStatusCode.Forbidden, "Confirm ticket required");
        (await phone.DenyAsync(scan.ScanId, confirmTicket: "")).ShouldBeProblem(HttpStatusCode.Forbidden, "Confirm ticket required");
        (await screen.PollAsync()).Error.ShouldBe("authorization_pending");
    }

    [Fact]
    public async Task A_wrong_ticket_is_403_and_leaves_the_request_open_for_the_right_one()
    {
        var screen = await StartAsync();
        var phone = await PhoneAsync();
        var scan = await phone.ScanOkAsync(screen.UserCode);

        (await phone.ApproveAsync(scan.ScanId, "not-the-ticket")).ShouldBeProblem(HttpStatusCode.Forbidden, "Invalid confirm ticket");
        (await phone.DenyAsync(scan.ScanId, "not-the-ticket")).ShouldBeProblem(HttpStatusCode.Forbidden, "Invalid confirm ticket");
        (await screen.PollAsync()).Error.ShouldBe("authorization_pending");

        (await phone.ApproveAsync(scan.ScanId, scan.ConfirmTicket)).Status.ShouldBe(HttpStatusCode.NoContent);
    }

    [Fact]
    public async Task A_used_ticket_is_403_when_approving_twice()
    {
        var screen = await StartAsync();
        var phone = await PhoneAsync();
        var scan = await phone.ScanOkAsync(screen.UserCode);
        (await phone.ApproveAsync(scan.ScanId, scan.ConfirmTicket)).Status.ShouldBe(HttpStatusCode.NoContent);

        (await phone.ApproveAsync(scan.ScanId, scan.ConfirmTicket)).ShouldBeProblem(HttpStatusCode.Forbidden, "Invalid confirm ticket");
    }

    [Fact]
    public async Task The_ticket_of_another_scan_is_403()
    {
        var first = await StartAsync();
        var second = await StartAsync();
        var phone = await PhoneAsync();
        var firstScan = await phone.ScanOkAsync(first.UserCode);
        var secondScan = await phone.ScanOkAsync(second.UserCode);

        (await phone.ApproveAsync(firstScan.ScanId, secondScan.ConfirmTicket)).ShouldBeProblem(HttpStatusCode.Forbidden, "Invalid confirm ticket");

        (await phone.ApproveAsync(firstScan.ScanId, firstScan.ConfirmTicket)).Status.ShouldBe(HttpStatusCode.NoContent);
        (await phone.ApproveAsync(secondScan.ScanId, secondScan.ConfirmTicket)).Status.ShouldBe(HttpStatusCode.NoContent);
    }

    [Fact]
    public async Task A_ticket_presented_by_another_phone_of_the_same_account_is_403()
    {
        var account = await PhoneApp.NewAccountAsync(factory);
        var scanningPhone = await PhoneApp.SignInAsync(factory, account, deviceName: "Phone one");
        var otherPhone = await PhoneApp.SignInAsync(factory, account, deviceName: "Phone two");
        otherPhone.DeviceId.ShouldNotBe(scanningPhone.DeviceId);
        var screen = await StartAsync();
        var scan = await scanningPhone.ScanOkAsync(screen.UserCode);

        (await otherPhone.ApproveAsync(scan.ScanId, scan.ConfirmTicket)).ShouldBeProblem(HttpStatusCode.Forbidden, "Invalid confirm ticket");
        (await otherPhone.DenyAsync(scan.ScanId, scan.ConfirmTicket)).ShouldBeProblem(HttpStatusCode.Forbidden, "Invalid confirm ticket");

        (await scanningPhone.ApproveAsync(scan.ScanId, scan.ConfirmTicket)).Status.ShouldBe(HttpStatusCode.NoContent);
    }

    [Fact]
    public async Task A_ticket_is_403_once_its_two_minutes_are_over()
    {
        var screen = await StartAsync();
        var phone = await PhoneAsync();
        var scan = await phone.ScanOkAsync(screen.UserCode);
        factory.Clock.Advance(TimeSpan.FromMinutes(2));

        (await phone.ApproveAsync(scan.ScanId, scan.ConfirmTicket)).ShouldBeProblem(HttpStatusCode.Forbidden, "Invalid confirm ticket");

        // The request itself is still open: scanning again gives a ticket that works.
        var again = await phone.ScanOkAsync(screen.UserCode);
        (await phone.ApproveAsync(again.ScanId, again.ConfirmTicket)).Status.ShouldBe(HttpStatusCode.NoContent);
    }

    [Fact]
    public async Task Scanning_again_with_the_same_account_gives_a_fresh_ticket_and_the_old_one_stops_working()
    {
        var screen = await StartAsync();
        var phone = await PhoneAsync();
        var first = await phone.ScanOkAsync(screen.UserCode);

        var second = await phone.ScanOkAsync(screen.UserCode);

        second.ScanId.ShouldBe(first.ScanId);
        second.ConfirmTicket.ShouldNotBe(first.ConfirmTicket);
        (await phone.ApproveAsync(first.ScanId, first.ConfirmTicket)).ShouldBeProblem(HttpStatusCode.Forbidden, "Invalid confirm ticket");
        (await phone.ApproveAsync(second.ScanId, second.ConfirmTicket)).Status.ShouldBe(HttpStatusCode.NoContent);
        (await screen.PollAsync()).Status.ShouldBe(HttpStatusCode.OK);
    }

    // ---- 409: the first account to scan claims the request (RFC 8628 §5.5) ----

    [Fact]
    public async Task A_request_claimed_by_another_account_is_409_to_scan_and_to_approve()
    {
        var screen = await StartAsync();
        var owner = await PhoneAsync();
        var intruder = await PhoneApp.SignInNewAccountAsync(factory);
        var scan = await owner.ScanOkAsync(screen.UserCode);

        (await intruder.ScanAsync(screen.UserCode)).ShouldBeProblem(HttpStatusCode.Conflict, "Claimed by another account");
        (await intruder.ApproveAsync(scan.ScanId, scan.ConfirmTicket)).ShouldBeProblem(HttpStatusCode.Conflict, "Claimed by another account");
        (await intruder.DenyAsync(scan.ScanId, scan.ConfirmTicket)).ShouldBeProblem(HttpStatusCode.Conflict, "Claimed by another account");
        (await screen.PollAsync()).Error.ShouldBe("authorization_pending");

        (await owner.ApproveAsync(scan.ScanId, scan.ConfirmTicket)).Status.ShouldBe(HttpStatusCode.NoContent);
    }

    [Fact]
    public async Task Two_accounts_racing_to_scan_one_request_give_exactly_one_claim()
    {
        var first = await PhoneAsync();
        var second = await PhoneApp.SignInNewAccountAsync(factory);

        for (var i = 0; i < 10; i++)
        {
            var screen = await StartAsync();

            var scans = await Task.WhenAll(
                Task.Run(() => first.ScanAsync(screen.UserCode)),
                Task.Run(() => second.ScanAsync(screen.UserCode)));

            scans.Select(s => s.Status).OrderBy(s => s).ToArray().ShouldBe([HttpStatusCode.Created, HttpStatusCode.Conflict], $"iteration {i}");
            var winner = scans[0].Status == HttpStatusCode.Created ? first : second;
            var scan = scans.Single(s => s.Status == HttpStatusCode.Created);
            (await winner.ApproveAsync(scan.Get("scan_id"), scan.Get("confirm_ticket"))).Status.ShouldBe(HttpStatusCode.NoContent);
            var tokens = await screen.PollAsync();
            tokens.Status.ShouldBe(HttpStatusCode.OK);
            new JsonWebToken(tokens.Get("access_token")).Subject.ShouldBe(new JsonWebToken(winner.AccessToken).Subject);
        }
    }

    // ---- Who may call the phone API ----

    public static TheoryData<string, string> Endpoints => new()
    {
        { "POST", "/api/phone/scans" },
        { "POST", "/api/phone/scans/some-scan/approve" },
        { "POST", "/api/phone/scans/some-scan/deny" },
        { "GET", "/api/phone/devices" },
        { "DELETE", "/api/phone/devices/some-device" },
    };

    private static HttpContent? BodyFor(string method, string path) => method == "POST"
        ? new StringContent(path.EndsWith("/scans") ? """{"code":"BCDF-GHJK"}""" : """{"confirm_ticket":"t"}""", Encoding.UTF8, "application/json")
        : null;

    [Theory]
    [MemberData(nameof(Endpoints))]
    public async Task Without_a_token_every_endpoint_is_401_with_a_bearer_challenge(string method, string path)
    {
        var answer = await PhoneApp.SendAsync(factory.CreateClient(), new HttpMethod(method), path, bearer: null, content: BodyFor(method, path));

        answer.ShouldBeProblem(HttpStatusCode.Unauthorized, "Sign in first");
        answer.Response.Headers.WwwAuthenticate.ShouldHaveSingleItem().Scheme.ShouldBe("Bearer");
    }

    [Theory]
    [MemberData(nameof(Endpoints))]
    public async Task A_device_token_from_the_device_flow_is_403_on_every_endpoint(string method, string path)
    {
        var tv = await factory.SignInDeviceAsync();

        var answer = await PhoneApp.SendAsync(factory.CreateClient(), new HttpMethod(method), path, tv.Get("access_token"), content: BodyFor(method, path));

        answer.ShouldBeProblem(HttpStatusCode.Forbidden, "Not the phone app");
    }

    [Fact]
    public async Task A_third_party_apps_token_is_403()
    {
        var token = await WebAppAccessTokenAsync("openid");

        var answer = await PhoneApp.SendAsync(factory.CreateClient(), HttpMethod.Get, "/api/phone/devices", token);

        answer.ShouldBeProblem(HttpStatusCode.Forbidden, "Not the phone app");
    }

    [Fact]
    public async Task A_phone_token_without_the_phone_scope_is_403()
    {
        var phone = await PhoneApp.SignInAsync(factory, scope: "openid profile");
        new JsonWebToken(phone.AccessToken).GetClaim("scope").Value.ShouldBe("openid profile");
        var screen = await StartAsync();

        (await phone.DevicesAsync()).ShouldBeProblem(HttpStatusCode.Forbidden, "Not the phone app");
        (await phone.ScanAsync(screen.UserCode)).ShouldBeProblem(HttpStatusCode.Forbidden, "Not the phone app");
        (await screen.PollAsync()).Error.ShouldBe("authorization_pending");
    }

    [Fact]
    public async Task An_expired_phone_token_is_401()
    {
        var phone = await PhoneAsync();
        (await phone.DevicesAsync()).Status.ShouldBe(HttpStatusCode.OK);
        factory.Clock.Advance(TimeSpan.FromMinutes(10) + TimeSpan.FromSeconds(1));

        var answer = await phone.DevicesAsync();

        answer.ShouldBeProblem(HttpStatusCode.Unauthorized, "Invalid token");
        var challenge = answer.Response.Headers.WwwAuthenticate.ShouldHaveSingleItem();
        challenge.Scheme.ShouldBe("Bearer");
        challenge.Parameter!.ShouldStartWith("error=\"invalid_token\"");
    }

    [Fact]
    public async Task A_forged_token_is_401()
    {
        var answer = await PhoneApp.SendAsync(factory.CreateClient(), HttpMethod.Get, "/api/phone/devices", "not.a.token");

        answer.ShouldBeProblem(HttpStatusCode.Unauthorized, "Invalid token");
    }

    /// <summary>The third-party web app's access token, through the real sign-in and consent pages.</summary>
    private async Task<string> WebAppAccessTokenAsync(string scope)
    {
        var browser = factory.CreateBrowser();
        await browser.SignInAsync(await PhoneApp.NewAccountAsync(factory, "webapp"));
        return (await CodeFlow.WebAppTokensAsync(factory, browser, scope)).Get("access_token");
    }

    // ---- Linked devices ----

    [Fact]
    public async Task The_device_list_shows_this_phone_as_current_and_a_signed_in_tv()
    {
        var phoneSignedInAt = factory.Clock.GetUtcNow();
        var phone = await PhoneApp.SignInNewAccountAsync(factory, remoteIp: "192.0.2.10");
        factory.Clock.Advance(TimeSpan.FromSeconds(30));
        var tvSignedInAt = factory.Clock.GetUtcNow();
        var screen = await StartAsync(remoteIp: "198.51.100.20");
        await phone.ScanAndApproveAsync(screen.UserCode);
        var tv = await screen.PollAsync();
        tv.Status.ShouldBe(HttpStatusCode.OK);

        var list = await phone.DevicesAsync();

        list.Status.ShouldBe(HttpStatusCode.OK);
        list.Response.Content.Headers.ContentType!.MediaType.ShouldBe("application/json");
        var devices = list.Json.EnumerateArray().ToList();
        devices.Count.ShouldBe(2);

        var self = devices.Single(d => d.GetProperty("current").GetBoolean());
        self.GetProperty("id").GetString().ShouldBe(phone.DeviceId);
        self.GetProperty("name").GetString().ShouldBe("Test phone");
        self.GetProperty("client").GetProperty("id").GetString().ShouldBe("phone");
        self.GetProperty("client").GetProperty("name").GetString().ShouldBe("AuthServer phone app");
        self.GetProperty("created_at").GetDateTimeOffset().ShouldBe(phoneSignedInAt);
        self.GetProperty("last_used_at").GetDateTimeOffset().ShouldBe(phoneSignedInAt);
        self.GetProperty("ip").GetString().ShouldBe("192.0.2.10");

        var other = devices.Single(d => !d.GetProperty("current").GetBoolean());
        other.GetProperty("id").GetString().ShouldBe(new JsonWebToken(tv.Get("access_token")).GetClaim("device_id").Value);
        other.GetProperty("name").GetString().ShouldBe("Living room TV");
        other.GetProperty("client").GetProperty("id").GetString().ShouldBe("demo-tv");
        other.GetProperty("client").GetProperty("name").GetString().ShouldBe("Demo TV");
        other.GetProperty("created_at").GetDateTimeOffset().ShouldBe(tvSignedInAt);
        other.GetProperty("last_used_at").GetDateTimeOffset().ShouldBe(tvSignedInAt);
        other.GetProperty("ip").GetString().ShouldBe("198.51.100.20");

        // Most recently used first.
        devices[0].GetProperty("id").GetString().ShouldBe(other.GetProperty("id").GetString());
    }

    [Fact]
    public async Task Logging_the_tv_out_is_204_and_its_refresh_and_access_tokens_stop_working_at_once()
    {
        var phone = await PhoneApp.SignInNewAccountAsync(factory);
        var screen = await StartAsync();
        await phone.ScanAndApproveAsync(screen.UserCode);
        var tv = await screen.PollAsync();
        var tvDevice = new JsonWebToken(tv.Get("access_token")).GetClaim("device_id").Value;
        (await UserinfoAsync(tv.Get("access_token"))).Status.ShouldBe(HttpStatusCode.OK);

        var logout = await phone.LogOutAsync(tvDevice);

        logout.Status.ShouldBe(HttpStatusCode.NoContent);
        var refresh = await factory.CreateClient().RefreshAsync(tv.Get("refresh_token"));
        refresh.Status.ShouldBe(HttpStatusCode.BadRequest);
        refresh.Error.ShouldBe("invalid_grant");
        var userinfo = await UserinfoAsync(tv.Get("access_token"));
        userinfo.Status.ShouldBe(HttpStatusCode.Unauthorized);
        userinfo.Error.ShouldBe("invalid_token");
        var devices = (await phone.DevicesAsync()).Json.EnumerateArray().Select(d => d.GetProperty("id").GetString()).ToList();
        devices.ShouldBe([phone.DeviceId]);
        // Logged out once is logged out: a second DELETE finds nothing.
        (await phone.LogOutAsync(tvDevice)).ShouldBeProblem(HttpStatusCode.NotFound, "Unknown device");
    }

    [Fact]
    public async Task Logging_out_another_accounts_device_or_an_unknown_id_is_404()
    {
        var phone = await PhoneApp.SignInNewAccountAsync(factory);
        var stranger = await PhoneApp.SignInNewAccountAsync(factory);

        (await phone.LogOutAsync(stranger.DeviceId)).ShouldBeProblem(HttpStatusCode.NotFound, "Unknown device");
        (await phone.LogOutAsync("no-such-device")).ShouldBeProblem(HttpStatusCode.NotFound, "Unknown device");

        (await stranger.DevicesAsync()).Status.ShouldBe(HttpStatusCode.OK);
    }

    [Fact]
    public async Task Logging_out_the_phone_itself_is_204_and_its_token_stops_working()
    {
        var phone = await PhoneApp.SignInNewAccountAsync(factory);

        (await phone.LogOutAsync(phone.DeviceId)).Status.ShouldBe(HttpStatusCode.NoContent);

        (await phone.DevicesAsync()).ShouldBeProblem(HttpStatusCode.Unauthorized, "Invalid token");
        (await factory.CreateClient().RefreshAsync(phone.RefreshToken!, clientId: "phone")).Error.ShouldBe("invalid_grant");
    }

    private async Task<Infrastructure.Protocol.Answer> UserinfoAsync(string accessToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/connect/userinfo");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", accessToken);
        return await Infrastructure.Protocol.ReadAsync(await factory.CreateClient().SendAsync(request));
    }

    // ---- Malformed requests ----

    [Theory]
    [InlineData("/api/phone/scans", "{not json")]
    [InlineData("/api/phone/scans", """{"code": 5}""")]
    [InlineData("/api/phone/scans", "")]
    [InlineData("/api/phone/scans/some-scan/approve", "{\"confirm_ticket\":")]
    [InlineData("/api/phone/scans/some-scan/approve", """{"confirm_ticket":"t","number":"twelve"}""")]
    [InlineData("/api/phone/scans/some-scan/deny", "[]")]
    public async Task A_malformed_json_body_is_400_problem_details_not_500(string path, string body)
    {
        var phone = await PhoneAsync();

        var answer = await phone.SendAsync(HttpMethod.Post, path, new StringContent(body, Encoding.UTF8, "application/json"));

        answer.ShouldBeProblem(HttpStatusCode.BadRequest);
    }
}

/// <summary>A server where <c>demo-tv</c> uses number matching (RFC 8628 §5.4).</summary>
public class NumberMatchingServer : IDisposable
{
    public NumberMatchingServer() : this(AuthServer.Data.DatabaseProvider.Sqlite)
    {
    }

    protected NumberMatchingServer(AuthServer.Data.DatabaseProvider provider) =>
        Factory = AuthServerFactory.With(new() { ["Clients:demo-tv:NumberMatching"] = "true" }, provider);

    public AuthServerFactory Factory { get; }

    public void Dispose()
    {
        Factory.Dispose();
        GC.SuppressFinalize(this);
    }

    /// <summary>The same server on PostgreSQL.</summary>
    public sealed class OnPostgreSql() : NumberMatchingServer(AuthServer.Data.DatabaseProvider.PostgreSql);
}

public abstract class PhoneApiNumberMatchingTests(NumberMatchingServer server)
{
    public sealed class OnSqlite(NumberMatchingServer server) : PhoneApiNumberMatchingTests(server), IClassFixture<NumberMatchingServer>;

    public sealed class OnPostgreSql(NumberMatchingServer.OnPostgreSql server) : PhoneApiNumberMatchingTests(server), IClassFixture<NumberMatchingServer.OnPostgreSql>;

    private readonly AuthServerFactory _factory = server.Factory;

    /// <summary>A scanned request and the number its waiting screen shows (read from the screen's stream).</summary>
    private async Task<(Screen Screen, PhoneApp Phone, PhoneApp.Scan Scan, int Number)> ScanAsync()
    {
        var screen = await Screen.StartAsync(_factory);
        var phone = await PhoneApp.SignInAsync(_factory);
        var scan = await phone.ScanOkAsync(screen.UserCode);
        using var stream = await EventStream.OpenAsync(_factory.CreateClient(), screen.DeviceCode);
        var scanned = await stream.ExpectEventAsync("scanned", id: 1);
        return (screen, phone, scan, scanned.Number.ShouldNotBeNull());
    }

    private static int WrongNumber(int right) => right == 10 ? 11 : 10;

    [Fact]
    public async Task The_scan_offers_three_different_numbers_one_of_them_the_screens()
    {
        var (_, _, scan, number) = await ScanAsync();

        var choices = scan.NumberChoices.ShouldNotBeNull();
        choices.Length.ShouldBe(3);
        choices.Distinct().Count().ShouldBe(3);
        choices.ShouldAllBe(c => c >= 10 && c <= 99);
        choices.ShouldContain(number);
    }

    [Fact]
    public async Task Approving_with_the_screens_number_is_204_and_the_device_gets_tokens()
    {
        var (screen, phone, scan, number) = await ScanAsync();

        (await phone.ApproveAsync(scan.ScanId, scan.ConfirmTicket, number)).Status.ShouldBe(HttpStatusCode.NoContent);

        (await screen.PollAsync()).Status.ShouldBe(HttpStatusCode.OK);
    }

    [Fact]
    public async Task A_wrong_number_is_403_and_denies_the_request()
    {
        var (screen, phone, scan, number) = await ScanAsync();

        (await phone.ApproveAsync(scan.ScanId, scan.ConfirmTicket, WrongNumber(number))).ShouldBeProblem(HttpStatusCode.Forbidden, "Wrong number");

        (await screen.PollAsync()).Error.ShouldBe("access_denied");
        // Denied for good: the ticket is spent, so the right number no longer helps, nor does a new scan.
        (await phone.ApproveAsync(scan.ScanId, scan.ConfirmTicket, number)).ShouldBeProblem(HttpStatusCode.Forbidden, "Invalid confirm ticket");
        (await phone.ScanAsync(screen.UserCode)).ShouldBeProblem(HttpStatusCode.Gone, "Request closed");
    }

    [Fact]
    public async Task Approving_without_a_number_is_403_and_denies_the_request()
    {
        var (screen, phone, scan, _) = await ScanAsync();

        (await phone.ApproveAsync(scan.ScanId, scan.ConfirmTicket, number: null)).ShouldBeProblem(HttpStatusCode.Forbidden, "Wrong number");

        (await screen.PollAsync()).Error.ShouldBe("access_denied");
    }

    [Fact]
    public async Task Denying_needs_no_number()
    {
        var (screen, phone, scan, _) = await ScanAsync();

        (await phone.DenyAsync(scan.ScanId, scan.ConfirmTicket)).Status.ShouldBe(HttpStatusCode.NoContent);

        (await screen.PollAsync()).Error.ShouldBe("access_denied");
    }

    /// <summary>A signed-in browser on a request's consent page, the screen's stream, and the number it shows.</summary>
    private sealed record OnPage(Screen Screen, HttpClient Browser, string Page, EventStream Stream, int Number) : IDisposable
    {
        public Task<HttpResponseMessage> PickAsync(int number) =>
            Browser.PostAsync("/device?handler=Approve", new FormUrlEncodedContent(new Dictionary<string, string>
            {
                ["user_code"] = Screen.UserCode,
                ["number"] = number.ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["__RequestVerificationToken"] = Infrastructure.Browser.AntiforgeryToken(Page),
            }));

        public void Dispose() => Stream.Dispose();
    }

    private async Task<OnPage> OpenOnPageAsync()
    {
        var screen = await Screen.StartAsync(_factory);
        var browser = _factory.CreateBrowser();
        await browser.SignInAsync();
        var page = await browser.OpenVerificationAsync(screen.UserCode);
        var stream = await EventStream.OpenAsync(_factory.CreateClient(), screen.DeviceCode);
        var number = (await stream.ExpectEventAsync("scanned", id: 1)).Number.ShouldNotBeNull();
        return new OnPage(screen, browser, page, stream, number);
    }

    [Fact]
    public async Task The_verification_page_offers_three_number_buttons_and_no_plain_approve()
    {
        using var onPage = await OpenOnPageAsync();

        var buttons = System.Text.RegularExpressions.Regex.Matches(onPage.Page, "<button[^>]*name=\"number\"[^>]*value=\"(\\d+)\"")
            .Select(m => int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture)).ToList();
        buttons.Count.ShouldBe(3);
        buttons.Distinct().Count().ShouldBe(3);
        buttons.ShouldContain(onPage.Number);
        onPage.Page.ShouldNotContain(">Approve</button>");
        onPage.Page.ShouldContain(">Deny</button>");
    }

    [Fact]
    public async Task Picking_the_wrong_number_on_the_verification_page_shows_the_wrong_number_message_and_denies()
    {
        using var onPage = await OpenOnPageAsync();

        var response = await onPage.PickAsync(WrongNumber(onPage.Number));

        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        Browser.Result(await response.Content.ReadAsStringAsync()).ShouldStartWith("That was not the number on the screen");
        (await onPage.Stream.ExpectEventAsync("denied", id: 2)).ShouldNotBeNull();
        (await onPage.Screen.PollAsync()).Error.ShouldBe("access_denied");
    }

    [Fact]
    public async Task Picking_the_right_number_on_the_verification_page_approves()
    {
        using var onPage = await OpenOnPageAsync();

        var response = await onPage.PickAsync(onPage.Number);

        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        Browser.Result(await response.Content.ReadAsStringAsync()).ShouldContain("is now signed in");
        (await onPage.Screen.PollAsync()).Status.ShouldBe(HttpStatusCode.OK);
    }
}

/// <summary>RFC 8628 §5.1: every scan is a guess, unknown codes included, limited per address and per account.</summary>
public sealed class PhoneApiGuessLimitTests
{
    private const int Limit = 3;

    private static AuthServerFactory LimitedServer() =>
        AuthServerFactory.With(new()
        {
            ["RateLimits:UserCodeLookupsPerAccount:PermitLimit"] = Limit.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["RateLimits:UserCodeLookupsPerNetwork:PermitLimit"] = Limit.ToString(System.Globalization.CultureInfo.InvariantCulture),
        });

    private static void ShouldBeTooMany(Infrastructure.Protocol.Answer answer)
    {
        answer.ShouldBeProblem(HttpStatusCode.TooManyRequests, "Too many attempts");
        answer.Response.Headers.RetryAfter.ShouldNotBeNull().Delta.ShouldBe(TimeSpan.FromSeconds(60));
    }

    [Fact]
    public async Task Unknown_codes_count_and_the_next_scan_is_429_with_retry_after_until_the_minute_is_over()
    {
        using var factory = LimitedServer();
        var screen = await Screen.StartAsync(factory);
        var phone = await PhoneApp.SignInAsync(factory, remoteIp: "192.0.2.1");
        for (var i = 0; i < Limit; i++)
            (await phone.ScanAsync($"BCDF-GHJ{"KLM"[i]}")).ShouldBeProblem(HttpStatusCode.NotFound, "Unknown code");

        ShouldBeTooMany(await phone.ScanAsync(screen.UserCode));
        (await screen.PollAsync()).Error.ShouldBe("authorization_pending");

        factory.Clock.Advance(TimeSpan.FromSeconds(60));
        (await phone.ScanAsync(screen.UserCode)).Status.ShouldBe(HttpStatusCode.Created);
    }

    [Fact]
    public async Task The_limit_follows_the_account_across_addresses()
    {
        using var factory = LimitedServer();
        var screen = await Screen.StartAsync(factory);
        var phone = await PhoneApp.SignInAsync(factory);
        for (var i = 0; i < Limit; i++)
        {
            // Each from its own network (/24), so only the account's budget is spent.
            phone.RemoteIp = $"192.0.{10 + i}.1";
            (await phone.ScanAsync("BCDF-GHJK")).Status.ShouldBe(HttpStatusCode.NotFound);
        }

        phone.RemoteIp = "198.51.100.99";
        ShouldBeTooMany(await phone.ScanAsync(screen.UserCode));

        // Another account at that fresh address is not affected.
        var other = await PhoneApp.SignInNewAccountAsync(factory, remoteIp: "198.51.100.99");
        (await other.ScanAsync(screen.UserCode)).Status.ShouldBe(HttpStatusCode.Created);
    }

    [Fact]
    public async Task The_limit_follows_the_address_across_accounts()
    {
        using var factory = LimitedServer();
        var screen = await Screen.StartAsync(factory);
        var phones = new List<PhoneApp>();
        for (var i = 0; i <= Limit; i++) phones.Add(await PhoneApp.SignInNewAccountAsync(factory, remoteIp: "192.0.2.50"));
        for (var i = 0; i < Limit; i++)
            (await phones[i].ScanAsync("BCDF-GHJK")).Status.ShouldBe(HttpStatusCode.NotFound);

        ShouldBeTooMany(await phones[Limit].ScanAsync(screen.UserCode));

        // The same account from another network still may.
        phones[Limit].RemoteIp = "198.51.100.51";
        (await phones[Limit].ScanAsync(screen.UserCode)).Status.ShouldBe(HttpStatusCode.Created);
    }
}

/// <summary>Who is asking must not be spoofable: X-Forwarded-For counts only from a configured proxy.</summary>
public sealed class PhoneApiRequesterAddressTests
{
    [Theory]
    [InlineData("10.0.0.1", "203.0.113.9")]
    [InlineData("10.0.0.2", "10.0.0.2")]
    public async Task The_scan_shows_the_forwarded_address_only_when_a_known_proxy_sent_it(string connectedFrom, string shown)
    {
        using var factory = AuthServerFactory.With(new() { ["ForwardedHeaders:KnownProxies:0"] = "10.0.0.1" });
        var device = Screen.Client(factory, remoteIp: connectedFrom);
        device.DefaultRequestHeaders.Add("X-Forwarded-For", "203.0.113.9");
        var screen = await Screen.StartAsync(factory, http: device);
        var phone = await PhoneApp.SignInAsync(factory);

        var scan = await phone.ScanOkAsync(screen.UserCode);

        scan.Answer.Json.GetProperty("requester").GetProperty("ip").GetString().ShouldBe(shown);
    }
}
