using System.Net;
using AuthServer.Data.Entities;
using AuthServer.DeviceFlow;
using AuthServer.Tests.Infrastructure;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.DependencyInjection;

namespace AuthServer.Tests.Protocol;

public abstract class DeviceCodeGrantTests(AuthServerFactory factory)
{
    public sealed class OnSqlite(AuthServerFactory server) : DeviceCodeGrantTests(server), IClassFixture<AuthServerFactory>;

    public sealed class OnPostgreSql(PostgreSqlAuthServerFactory server) : DeviceCodeGrantTests(server), IClassFixture<PostgreSqlAuthServerFactory>;

    private readonly HttpClient _device = factory.CreateClient();

    private async Task<(string DeviceCode, string UserCode)> StartAsync(string clientId = "demo-tv", string scope = Infrastructure.Protocol.DemoScopes)
    {
        var started = await _device.StartAsync(clientId, scope);
        started.Status.ShouldBe(HttpStatusCode.OK);
        return (started.Get("device_code"), started.Get("user_code"));
    }

    private Task ApproveAsync(string userCode, bool approve = true) => factory.DecideAsDemoUserAsync(userCode, approve);

    [Fact]
    public async Task Poll_before_approval_returns_authorization_pending()
    {
        var (deviceCode, _) = await StartAsync();

        var poll = await _device.PollAsync(deviceCode);

        poll.Status.ShouldBe(HttpStatusCode.BadRequest);
        poll.Error.ShouldBe("authorization_pending");
        poll.Response.Headers.CacheControl!.NoStore.ShouldBeTrue();
    }

    [Fact]
    public async Task Poll_after_scan_but_before_decision_is_still_pending()
    {
        var (deviceCode, userCode) = await StartAsync();
        var phone = factory.CreateBrowser();
        await phone.SignInAsync();
        await phone.OpenVerificationAsync(userCode);

        (await _device.PollAsync(deviceCode)).Error.ShouldBe("authorization_pending");
    }

    [Fact]
    public async Task Polling_faster_than_the_interval_returns_slow_down_and_adds_five_seconds()
    {
        var (deviceCode, _) = await StartAsync();

        (await _device.PollAsync(deviceCode)).Error.ShouldBe("authorization_pending");
        factory.Clock.Advance(TimeSpan.FromSeconds(2));
        (await _device.PollAsync(deviceCode)).Error.ShouldBe("slow_down"); // interval is now 10 s

        factory.Clock.Advance(TimeSpan.FromSeconds(6)); // 6 s < 10 s - 1 s of jitter
        (await _device.PollAsync(deviceCode)).Error.ShouldBe("slow_down"); // interval is now 15 s

        factory.Clock.Advance(TimeSpan.FromSeconds(15));
        (await _device.PollAsync(deviceCode)).Error.ShouldBe("authorization_pending");
        factory.Clock.Advance(TimeSpan.FromSeconds(14)); // within the second of jitter
        (await _device.PollAsync(deviceCode)).Error.ShouldBe("authorization_pending");
    }

    [Fact]
    public async Task A_client_that_keeps_the_interval_is_never_slowed_down()
    {
        var (deviceCode, _) = await StartAsync();

        for (var i = 0; i < 5; i++)
        {
            (await _device.PollAsync(deviceCode)).Error.ShouldBe("authorization_pending");
            // Network jitter: a poll arriving up to a second early is tolerated.
            factory.Clock.Advance(TimeSpan.FromSeconds(i % 2 == 0 ? 4.2 : 5));
        }
    }

    [Fact]
    public async Task A_poll_after_approval_is_never_slowed_down()
    {
        var (deviceCode, userCode) = await StartAsync();
        (await _device.PollAsync(deviceCode)).Error.ShouldBe("authorization_pending");
        await ApproveAsync(userCode);

        // Immediately after the previous poll: too fast, but the request is approved.
        var poll = await _device.PollAsync(deviceCode);

        poll.Status.ShouldBe(HttpStatusCode.OK);
        poll.Get("access_token").ShouldNotBeNullOrEmpty();
    }

    [Fact]
    public async Task Approved_request_returns_tokens_once()
    {
        var (deviceCode, userCode) = await StartAsync();
        await ApproveAsync(userCode);

        var tokens = await _device.PollAsync(deviceCode);
        tokens.Status.ShouldBe(HttpStatusCode.OK);
        tokens.Get("token_type").ShouldBe("Bearer");
        // Ten minutes, counted in whole seconds left by the time the response is written.
        tokens.Json.GetProperty("expires_in").GetInt32().ShouldBeInRange(599, 600);
        tokens.Get("scope").ShouldBe(Infrastructure.Protocol.DemoScopes);
        tokens.Get("refresh_token").ShouldNotBeNullOrEmpty();
        tokens.Get("id_token").ShouldNotBeNullOrEmpty();
        tokens.Response.Headers.CacheControl!.NoStore.ShouldBeTrue();

        var again = await _device.PollAsync(deviceCode);
        again.Status.ShouldBe(HttpStatusCode.BadRequest);
        again.Error.ShouldBe("invalid_grant");
    }

    [Fact]
    public async Task A_redeemed_request_leaves_memory_at_once_and_a_replay_still_gets_invalid_grant()
    {
        using var isolated = AuthServerFactory.On(factory.Provider);
        var device = isolated.CreateClient();
        var cache = isolated.Services.GetRequiredService<LiveRequestCache>();
        var started = await device.StartAsync();
        cache.Count.ShouldBe(1);
        await isolated.DecideAsDemoUserAsync(started.Get("user_code"), approve: true);

        (await device.PollAsync(started.Get("device_code"))).Status.ShouldBe(HttpStatusCode.OK);
        cache.Count.ShouldBe(0);

        // The replay misses memory, reads the row once, and is refused as before.
        var replay = await device.PollAsync(started.Get("device_code"));
        replay.Status.ShouldBe(HttpStatusCode.BadRequest);
        replay.Error.ShouldBe("invalid_grant");
        replay.Json.GetProperty("error_description").GetString().ShouldBe("The device code has already been used.");
        cache.Count.ShouldBe(0);
    }

    [Fact]
    public async Task Without_offline_access_or_openid_only_an_access_token_is_issued()
    {
        var (deviceCode, userCode) = await StartAsync(scope: "api");
        await ApproveAsync(userCode);

        var tokens = await _device.PollAsync(deviceCode);

        tokens.Status.ShouldBe(HttpStatusCode.OK);
        tokens.Json.TryGetProperty("refresh_token", out _).ShouldBeFalse();
        tokens.Json.TryGetProperty("id_token", out _).ShouldBeFalse();
        tokens.Get("scope").ShouldBe("api");
    }

    [Fact]
    public async Task Denied_request_returns_access_denied()
    {
        var (deviceCode, userCode) = await StartAsync();
        await ApproveAsync(userCode, approve: false);

        var poll = await _device.PollAsync(deviceCode);

        poll.Status.ShouldBe(HttpStatusCode.BadRequest);
        poll.Error.ShouldBe("access_denied");
    }

    [Fact]
    public async Task Expired_request_returns_expired_token()
    {
        var (deviceCode, _) = await StartAsync();
        factory.Clock.Advance(TimeSpan.FromSeconds(300));

        var poll = await _device.PollAsync(deviceCode);

        poll.Status.ShouldBe(HttpStatusCode.BadRequest);
        poll.Error.ShouldBe("expired_token");
    }

    [Fact]
    public async Task An_approved_request_that_expires_before_redemption_returns_expired_token()
    {
        var (deviceCode, userCode) = await StartAsync();
        await ApproveAsync(userCode);
        factory.Clock.Advance(TimeSpan.FromMinutes(6));

        (await _device.PollAsync(deviceCode)).Error.ShouldBe("expired_token");
    }

    [Fact]
    public async Task Unknown_device_code_returns_invalid_grant()
    {
        var poll = await _device.PollAsync("not-a-device-code");

        poll.Status.ShouldBe(HttpStatusCode.BadRequest);
        poll.Error.ShouldBe("invalid_grant");
    }

    [Fact]
    public async Task Another_clients_device_code_returns_invalid_grant_and_leaves_the_request_usable()
    {
        var (deviceCode, userCode) = await StartAsync();
        var other = new HttpClient(factory.Server.CreateHandler()) { BaseAddress = factory.Server.BaseAddress };
        other.DefaultRequestHeaders.Authorization = new("Basic", Convert.ToBase64String(
            System.Text.Encoding.UTF8.GetBytes($"{AuthServerFactory.SecretClientId}:{AuthServerFactory.SecretClientSecret}")));

        var stolen = await other.PostFormAsync("/connect/token", ("grant_type", Infrastructure.Protocol.DeviceGrant), ("device_code", deviceCode));
        stolen.Status.ShouldBe(HttpStatusCode.BadRequest);
        stolen.Error.ShouldBe("invalid_grant");

        await ApproveAsync(userCode);
        (await _device.PollAsync(deviceCode)).Status.ShouldBe(HttpStatusCode.OK);
    }

    [Fact]
    public async Task Twenty_parallel_polls_redeem_the_code_exactly_once()
    {
        var (deviceCode, userCode) = await StartAsync();
        await ApproveAsync(userCode);

        var polls = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => Task.Run(() => _device.PollAsync(deviceCode))));

        polls.Count(p => p.Status == HttpStatusCode.OK).ShouldBe(1);
        polls.Where(p => p.Status != HttpStatusCode.OK).ShouldAllBe(p => p.Error == "invalid_grant");
    }

    [Fact]
    public async Task An_account_locked_after_approving_gets_no_tokens()
    {
        using var isolated = AuthServerFactory.On(factory.Provider);
        var device = isolated.CreateClient();
        var started = await device.StartAsync();
        await isolated.DecideAsDemoUserAsync(started.Get("user_code"), approve: true);
        await using (var scope = isolated.Services.CreateAsyncScope())
        {
            var users = scope.ServiceProvider.GetRequiredService<UserManager<ApplicationUser>>();
            var demo = await users.FindByEmailAsync(AuthServerFactory.DemoEmail);
            (await users.SetLockoutEndDateAsync(demo!, DateTimeOffset.MaxValue)).Succeeded.ShouldBeTrue();
        }

        var poll = await device.PollAsync(started.Get("device_code"));

        poll.Status.ShouldBe(HttpStatusCode.BadRequest);
        poll.Error.ShouldBe("invalid_grant");
    }

    [Fact]
    public async Task A_lockout_is_judged_by_the_servers_clock_and_ends_with_it()
    {
        using var isolated = AuthServerFactory.On(factory.Provider);
        var device = isolated.CreateClient();
        var tokens = await isolated.SignInDeviceAsync();
        await using (var scope = isolated.Services.CreateAsyncScope())
        {
            var users = scope.ServiceProvider.GetRequiredService<UserManager<ApplicationUser>>();
            var demo = await users.FindByEmailAsync(AuthServerFactory.DemoEmail);
            (await users.SetLockoutEndDateAsync(demo!, isolated.Clock.GetUtcNow().AddMinutes(15))).Succeeded.ShouldBeTrue();
        }

        var refused = await device.RefreshAsync(tokens.Get("refresh_token"));
        refused.Status.ShouldBe(HttpStatusCode.BadRequest);
        refused.Error.ShouldBe("invalid_grant");

        // Fifteen minutes later on the server's clock (not the wall clock), the account is available again.
        isolated.Clock.Advance(TimeSpan.FromMinutes(15));
        (await device.RefreshAsync(tokens.Get("refresh_token"))).Status.ShouldBe(HttpStatusCode.OK);
    }

    [Fact]
    public async Task Missing_device_code_returns_invalid_request()
    {
        var poll = await _device.PostFormAsync("/connect/token", ("grant_type", Infrastructure.Protocol.DeviceGrant), ("client_id", "demo-tv"));

        poll.Status.ShouldBe(HttpStatusCode.BadRequest);
        poll.Error.ShouldBe("invalid_request");
    }

    [Fact]
    public async Task A_client_without_the_device_grant_gets_unauthorized_client()
    {
        var poll = await _device.PollAsync("whatever", clientId: "phone");

        poll.Status.ShouldBe(HttpStatusCode.BadRequest);
        poll.Error.ShouldBe("unauthorized_client");
    }
}
