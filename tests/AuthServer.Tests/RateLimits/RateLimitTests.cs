using System.Globalization;
using System.Net;
using AuthServer.Data;
using AuthServer.RateLimits;
using AuthServer.Tests.Data;
using AuthServer.Tests.Infrastructure;
using AuthServer.Tests.Phone;

namespace AuthServer.Tests.RateLimits;

/// <summary>
/// The limits of <c>RateLimits</c> (docs/security.md, "Rate limits and guessing"), each on a server with a small
/// budget for it and the test factory's large ones for the rest, on both providers: PostgreSQL counts in its table.
/// </summary>
public abstract class RateLimitTests(DatabaseProvider provider)
{
    public sealed class OnSqlite() : RateLimitTests(DatabaseProvider.Sqlite);

    public sealed class OnPostgreSql() : RateLimitTests(DatabaseProvider.PostgreSql);

    private AuthServerFactory Limited(string limit, int permits) =>
        AuthServerFactory.With(new() { [$"RateLimits:{limit}:PermitLimit"] = permits.ToString(CultureInfo.InvariantCulture) }, provider);

    private static async Task<HttpClient> SignedInAsync(AuthServerFactory factory, string remoteIp)
    {
        var browser = factory.CreateBrowser(remoteIp);
        await browser.SignInAsync(await PhoneApp.NewAccountAsync(factory));
        return browser;
    }

    private static async Task ShouldBeTooManyPageAsync(HttpResponseMessage page, int retryAfter = 60)
    {
        page.StatusCode.ShouldBe(HttpStatusCode.TooManyRequests);
        page.Headers.GetValues("Retry-After").Single().ShouldBe(retryAfter.ToString(CultureInfo.InvariantCulture));
        page.Content.Headers.ContentType!.MediaType.ShouldBe("text/html");
        Browser.Result(await page.Content.ReadAsStringAsync()).ShouldContain("Too many codes were tried");
    }

    private static async Task ShouldBeAnsweredPageAsync(HttpResponseMessage page)
    {
        page.StatusCode.ShouldBe(HttpStatusCode.OK);
        Browser.Result(await page.Content.ReadAsStringAsync()).ShouldNotContain("Too many codes were tried");
    }

    private static void ShouldBeProtocolTooMany(Infrastructure.Protocol.Answer answer, string error, int retryAfter = 60)
    {
        answer.Status.ShouldBe(HttpStatusCode.TooManyRequests, $"body: {answer.Json}");
        answer.Response.Content.Headers.ContentType!.MediaType.ShouldBe("application/json");
        answer.Error.ShouldBe(error);
        answer.Get("error_description").ShouldContain($"{retryAfter} seconds");
        answer.Response.Headers.RetryAfter!.Delta.ShouldBe(TimeSpan.FromSeconds(retryAfter));
        answer.Response.Headers.CacheControl!.NoStore.ShouldBeTrue();
    }

    [Fact]
    public async Task Two_addresses_in_one_slash_24_share_a_lookup_budget_and_another_slash_24_has_its_own()
    {
        using var factory = Limited("UserCodeLookupsPerNetwork", 2);
        var first = await SignedInAsync(factory, "198.51.100.1");
        var second = await SignedInAsync(factory, "198.51.100.254");
        await ShouldBeAnsweredPageAsync(await first.GetAsync("/device?user_code=BCDF-GHJK"));
        await ShouldBeAnsweredPageAsync(await second.GetAsync("/device?user_code=BCDF-GHJL"));

        // Another account and another address, but the same /24: the network's budget is spent.
        await ShouldBeTooManyPageAsync(await (await SignedInAsync(factory, "198.51.100.77")).GetAsync("/device?user_code=BCDF-GHJM"));
        await ShouldBeAnsweredPageAsync(await (await SignedInAsync(factory, "198.51.101.1")).GetAsync("/device?user_code=BCDF-GHJM"));
    }

    [Fact]
    public async Task Ipv6_addresses_share_their_slash_64_and_an_ipv4_mapped_address_counts_as_its_ipv4_network()
    {
        using var factory = Limited("UserCodeLookupsPerNetwork", 1);
        var phone = await PhoneApp.SignInNewAccountAsync(factory, remoteIp: "2001:db8:1:2::1");
        (await phone.ScanAsync("BCDF-GHJK")).ShouldBeProblem(HttpStatusCode.NotFound, "Unknown code");

        phone.RemoteIp = "2001:db8:1:2:ffff:ffff:ffff:9";
        var limited = await phone.ScanAsync("BCDF-GHJK");
        limited.ShouldBeProblem(HttpStatusCode.TooManyRequests, "Too many attempts");
        limited.Response.Headers.RetryAfter!.Delta.ShouldBe(TimeSpan.FromSeconds(60));

        phone.RemoteIp = "2001:db8:1:3::1";
        (await phone.ScanAsync("BCDF-GHJK")).ShouldBeProblem(HttpStatusCode.NotFound, "Unknown code");

        phone.RemoteIp = "198.51.100.7";
        (await phone.ScanAsync("BCDF-GHJK")).ShouldBeProblem(HttpStatusCode.NotFound, "Unknown code");
        phone.RemoteIp = "::ffff:198.51.100.8";
        (await phone.ScanAsync("BCDF-GHJK")).ShouldBeProblem(HttpStatusCode.TooManyRequests, "Too many attempts");
    }

    [Fact]
    public async Task Unknown_codes_spend_a_server_wide_budget_found_codes_do_not_and_it_comes_back_with_the_window()
    {
        using var factory = Limited("UnknownUserCodes", 2);
        var screen = await Screen.StartAsync(factory);
        // Found codes give their permit back: any number of them leave the budget whole.
        for (var i = 0; i < 3; i++)
            (await (await PhoneApp.SignInNewAccountAsync(factory, remoteIp: $"192.0.{i}.1")).ScanAsync(screen.UserCode)).Status
                .ShouldNotBe(HttpStatusCode.TooManyRequests);

        // Two guessers on their own networks and accounts miss once each: the whole server's budget.
        (await (await SignedInAsync(factory, "198.51.100.1")).GetAsync("/device?user_code=BCDF-GHJK")).StatusCode.ShouldBe(HttpStatusCode.OK);
        (await (await PhoneApp.SignInNewAccountAsync(factory, remoteIp: "203.0.113.1")).ScanAsync("BCDF-GHJL"))
            .ShouldBeProblem(HttpStatusCode.NotFound, "Unknown code");

        // A third, anywhere, is refused before its lookup, even for a real code, and learns nothing about it.
        factory.Clock.Advance(TimeSpan.FromMinutes(1));
        var refused = await (await PhoneApp.SignInNewAccountAsync(factory, remoteIp: "192.0.2.200")).ScanAsync(screen.UserCode);
        refused.ShouldBeProblem(HttpStatusCode.TooManyRequests, "Too many attempts");
        refused.Response.Headers.RetryAfter!.Delta.ShouldBe(TimeSpan.FromMinutes(4));
        await ShouldBeTooManyPageAsync(await (await SignedInAsync(factory, "192.0.3.1")).GetAsync("/device?user_code=BCDF-GHJM"), retryAfter: 240);

        var audited = await AuditLogTests.EventsAsync(factory, e => e.Type == Audit.UserCodeRateLimited);
        audited.Count.ShouldBe(1, "one refusal is audited per window, not one per request");
        audited[0].Detail.ShouldNotBeNull().ShouldContain("More than 2 lookups of unknown user codes in 5 minutes");
        audited[0].Detail!.ShouldContain("RateLimits:UnknownUserCodes");

        factory.Clock.Advance(TimeSpan.FromMinutes(4));
        await ShouldBeAnsweredPageAsync(await (await SignedInAsync(factory, "192.0.3.2")).GetAsync("/device?user_code=BCDF-GHJM"));
    }

    [Fact]
    public async Task Real_scans_at_once_never_spend_the_unknown_code_budget_and_leave_it_whole()
    {
        using var factory = Limited("UnknownUserCodes", 2);
        var screens = await Task.WhenAll(Enumerable.Range(0, 12).Select(_ => Screen.StartAsync(factory)));
        var phones = await Task.WhenAll(Enumerable.Range(0, 12).Select(i => PhoneApp.SignInNewAccountAsync(factory, remoteIp: $"192.0.{i}.7")));

        // Twelve real scans at once: each holds a permit only while its code is looked up, so none meets a budget
        // that in-flight lookups of real codes have filled.
        var scans = await Task.WhenAll(phones.Select((phone, i) => phone.ScanAsync(screens[i].UserCode)));
        scans.Select(s => s.Status).ShouldAllBe(status => status == HttpStatusCode.Created);

        // The budget is still all there: two misses, then the third lookup is refused.
        (await phones[0].ScanAsync("BCDF-GHJK")).ShouldBeProblem(HttpStatusCode.NotFound, "Unknown code");
        (await phones[1].ScanAsync("BCDF-GHJL")).ShouldBeProblem(HttpStatusCode.NotFound, "Unknown code");
        (await phones[2].ScanAsync("BCDF-GHJM")).ShouldBeProblem(HttpStatusCode.TooManyRequests, "Too many attempts");
    }

    [Fact]
    public async Task Input_that_is_no_user_code_spends_none_of_the_unknown_code_budget()
    {
        using var factory = Limited("UnknownUserCodes", 2);
        var phone = await PhoneApp.SignInNewAccountAsync(factory, remoteIp: "192.0.2.70");

        // Too short, too long, and letters outside the alphabet (vowels): none can be anyone's code, so none is a guess.
        foreach (var notACode in new[] { "BCDF-GHJ", "BCDF-GHJK-L", "AEIO-UAEI", "hello" })
            (await phone.ScanAsync(notACode)).ShouldBeProblem(HttpStatusCode.NotFound, "Unknown code");

        // The budget is whole: two real misses, then the next lookup is refused.
        (await phone.ScanAsync("BCDF-GHJK")).ShouldBeProblem(HttpStatusCode.NotFound, "Unknown code");
        (await phone.ScanAsync("BCDF-GHJL")).ShouldBeProblem(HttpStatusCode.NotFound, "Unknown code");
        (await phone.ScanAsync("BCDF-GHJM")).ShouldBeProblem(HttpStatusCode.TooManyRequests, "Too many attempts");
    }

    [Fact]
    public async Task Device_authorizations_over_a_clients_budget_answer_429_temporarily_unavailable_audited_once()
    {
        using var factory = Limited("DeviceAuthorizationsPerClient", 2);
        for (var i = 0; i < 2; i++)
            (await Screen.Client(factory, remoteIp: $"198.51.{i}.1").StartAsync()).Status.ShouldBe(HttpStatusCode.OK);

        var refused = await Screen.Client(factory, remoteIp: "198.51.9.1").StartAsync();
        ShouldBeProtocolTooMany(refused, "temporarily_unavailable");
        factory.Clock.Advance(TimeSpan.FromSeconds(20));
        ShouldBeProtocolTooMany(await Screen.Client(factory, remoteIp: "198.51.9.2").StartAsync(), "temporarily_unavailable", retryAfter: 40);
        // Another client has its own budget.
        (await Screen.Client(factory, remoteIp: "198.51.9.3").StartAsync(clientId: "web", scope: "openid")).Status.ShouldBe(HttpStatusCode.OK);

        var audited = await AuditLogTests.EventsAsync(factory, e => e.Type == Audit.DeviceAuthorizationRateLimited);
        audited.Count.ShouldBe(1);
        audited[0].ClientId.ShouldBe("demo-tv");
        audited[0].Detail.ShouldNotBeNull().ShouldContain("More than 2 device authorization requests in a minute for this client");

        factory.Clock.Advance(TimeSpan.FromSeconds(40));
        (await Screen.Client(factory, remoteIp: "198.51.9.4").StartAsync()).Status.ShouldBe(HttpStatusCode.OK);
    }

    [Fact]
    public async Task Device_authorizations_are_limited_per_network()
    {
        using var factory = Limited("DeviceAuthorizationsPerNetwork", 2);
        (await Screen.Client(factory, remoteIp: "198.51.100.1").StartAsync()).Status.ShouldBe(HttpStatusCode.OK);
        (await Screen.Client(factory, remoteIp: "198.51.100.2").StartAsync(clientId: "web", scope: "openid")).Status.ShouldBe(HttpStatusCode.OK);

        ShouldBeProtocolTooMany(await Screen.Client(factory, remoteIp: "198.51.100.3").StartAsync(), "temporarily_unavailable");
        (await Screen.Client(factory, remoteIp: "203.0.113.3").StartAsync()).Status.ShouldBe(HttpStatusCode.OK);
    }

    [Fact]
    public async Task Token_requests_over_a_clients_budget_answer_slow_down_to_a_poll_and_temporarily_unavailable_to_other_grants()
    {
        using var factory = Limited("TokenRequestsPerClient", 3);
        var device = factory.CreateClient();
        var deviceCode = (await device.StartAsync()).Get("device_code");
        for (var i = 0; i < 3; i++)
        {
            (await device.PollAsync(deviceCode)).Error.ShouldBe("authorization_pending");
            factory.Clock.Advance(TimeSpan.FromSeconds(5));
        }

        ShouldBeProtocolTooMany(await device.PollAsync(deviceCode), "slow_down", retryAfter: 45);
        for (var i = 0; i < 3; i++)
            (await device.ClientCredentialsAsync(AuthServerFactory.ServiceClientId, AuthServerFactory.ServiceClientSecret)).Status.ShouldBe(HttpStatusCode.OK);
        // The service client's window opened with its own first request, 15 seconds after the screen's.
        ShouldBeProtocolTooMany(await device.ClientCredentialsAsync(AuthServerFactory.ServiceClientId, AuthServerFactory.ServiceClientSecret),
            "temporarily_unavailable");

        var audited = await AuditLogTests.EventsAsync(factory, e => e.Type == Audit.TokenRateLimited);
        audited.Select(e => e.ClientId).Order().ShouldBe(["demo-tv", AuthServerFactory.ServiceClientId]);

        factory.Clock.Advance(TimeSpan.FromSeconds(45));
        (await device.PollAsync(deviceCode)).Error.ShouldBe("authorization_pending");
    }
}

/// <summary>Which network a client address counts against.</summary>
public sealed class NetworkPartitionTests
{
    [Theory]
    [InlineData("198.51.100.1", "198.51.100.0/24")]
    [InlineData("198.51.100.254", "198.51.100.0/24")]
    [InlineData("::ffff:198.51.100.9", "198.51.100.0/24")]
    [InlineData("2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64")]
    [InlineData("2001:db8:1:2::", "2001:db8:1:2::/64")]
    [InlineData("::1", "::/64")]
    [InlineData("127.0.0.1", "127.0.0.0/24")]
    public void An_address_counts_against_its_slash_24_or_slash_64(string address, string network) =>
        NetworkPartition.Of(IPAddress.Parse(address)).ShouldBe(network);

    [Fact]
    public void A_request_without_a_peer_address_counts_against_one_shared_partition() =>
        NetworkPartition.Of((IPAddress?)null).ShouldBe(NetworkPartition.Unknown);
}
