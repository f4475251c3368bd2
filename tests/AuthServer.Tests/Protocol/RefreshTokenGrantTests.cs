using Microsoft.Extensions.DependencyInjection;
using Microsoft.EntityFrameworkCore;
using System.Net.Http.Headers;
using System.Net;
using AuthServer.Tests.Infrastructure;
using Microsoft.IdentityModel.JsonWebTokens;

namespace AuthServer.Tests.Protocol;

public abstract class RefreshTokenGrantTests(AuthServerFactory factory)
{
    public sealed class OnSqlite(AuthServerFactory server) : RefreshTokenGrantTests(server), IClassFixture<AuthServerFactory>;

    public sealed class OnPostgreSql(PostgreSqlAuthServerFactory server) : RefreshTokenGrantTests(server), IClassFixture<PostgreSqlAuthServerFactory>;

    private readonly HttpClient _device = factory.CreateClient();

    [Fact]
    public async Task A_refresh_returns_new_tokens_for_the_same_user_and_device()
    {
        var first = await factory.SignInDeviceAsync();
        factory.Clock.Advance(TimeSpan.FromMinutes(11));

        var refreshed = await _device.RefreshAsync(first.Get("refresh_token"));

        refreshed.Status.ShouldBe(HttpStatusCode.OK);
        refreshed.Response.Headers.CacheControl!.NoStore.ShouldBeTrue();
        var before = new JsonWebToken(first.Get("access_token"));
        var after = new JsonWebToken(refreshed.Get("access_token"));
        after.Subject.ShouldBe(before.Subject);
        after.GetClaim("device_id").Value.ShouldBe(before.GetClaim("device_id").Value);
        after.IssuedAt.ShouldBeGreaterThan(before.IssuedAt);
        refreshed.Get("refresh_token").ShouldNotBe(first.Get("refresh_token"));
    }

    [Fact]
    public async Task A_refresh_issues_no_new_identity_token_unless_configured_to()
    {
        // OIDC Core §12.2: the refresh response "might not contain an id_token"; the login's is the authentication.
        var first = await factory.SignInDeviceAsync();
        first.Json.TryGetProperty("id_token", out _).ShouldBeTrue();

        var refreshed = await _device.RefreshAsync(first.Get("refresh_token"));

        refreshed.Status.ShouldBe(HttpStatusCode.OK);
        refreshed.Json.TryGetProperty("id_token", out _).ShouldBeFalse();
        refreshed.Get("access_token").ShouldNotBeNullOrEmpty();

        using var configured = AuthServerFactory.With(new() { ["Tokens:IdentityTokenOnRefresh"] = "true" });
        var login = await configured.SignInDeviceAsync();
        var again = await configured.CreateClient().RefreshAsync(login.Get("refresh_token"));
        again.Status.ShouldBe(HttpStatusCode.OK);
        // §12.2: a new ID token names the same subject as the login's.
        new JsonWebToken(again.Get("id_token")).Subject.ShouldBe(new JsonWebToken(login.Get("id_token")).Subject);
    }

    [Fact]
    public async Task Reusing_a_rotated_refresh_token_after_the_leeway_revokes_the_whole_family()
    {
        var first = await factory.SignInDeviceAsync();
        var second = await _device.RefreshAsync(first.Get("refresh_token"));
        second.Status.ShouldBe(HttpStatusCode.OK);
        factory.Clock.Advance(TimeSpan.FromSeconds(31));

        var reuse = await _device.RefreshAsync(first.Get("refresh_token"));

        reuse.Status.ShouldBe(HttpStatusCode.BadRequest);
        reuse.Error.ShouldBe("invalid_grant");
        // The legitimate holder's current token dies with the family: one of the two holders is an attacker.
        (await _device.RefreshAsync(second.Get("refresh_token"))).Error.ShouldBe("invalid_grant");
        // So do the grant's access tokens: its device is logged out.
        var userinfo = new HttpRequestMessage(HttpMethod.Get, "/connect/userinfo");
        userinfo.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", second.Get("access_token"));
        (await Infrastructure.Protocol.ReadAsync(await _device.SendAsync(userinfo))).Status.ShouldBe(HttpStatusCode.Unauthorized);
        await using var connection = await factory.OpenDatabaseAsync();
        (await connection.ScalarAsync<long>("SELECT COUNT(*) FROM \"AuditEvents\" WHERE \"Type\" = 'refresh_token.reuse'")).ShouldBeGreaterThan(0);
    }

    [Fact]
    public async Task Presenting_the_previous_token_again_within_the_leeway_replaces_the_lost_successor()
    {
        var first = await factory.SignInDeviceAsync();
        var lost = await _device.RefreshAsync(first.Get("refresh_token"));
        factory.Clock.Advance(TimeSpan.FromSeconds(10));

        // The response carrying "lost" never arrived; the device retries with the token it still has.
        var retry = await _device.RefreshAsync(first.Get("refresh_token"));

        retry.Status.ShouldBe(HttpStatusCode.OK);
        retry.Get("refresh_token").ShouldNotBe(lost.Get("refresh_token"));
        (await _device.RefreshAsync(lost.Get("refresh_token"))).Error.ShouldBe("invalid_grant");
        (await _device.RefreshAsync(retry.Get("refresh_token"))).Status.ShouldBe(HttpStatusCode.OK);
    }

    [Fact]
    public async Task Within_the_leeway_a_retry_after_the_successor_was_used_is_reuse()
    {
        var first = await factory.SignInDeviceAsync();
        var second = await _device.RefreshAsync(first.Get("refresh_token"));
        var third = await _device.RefreshAsync(second.Get("refresh_token"));
        third.Status.ShouldBe(HttpStatusCode.OK);

        (await _device.RefreshAsync(first.Get("refresh_token"))).Error.ShouldBe("invalid_grant");

        (await _device.RefreshAsync(third.Get("refresh_token"))).Error.ShouldBe("invalid_grant");
    }

    [Fact]
    public async Task An_idle_refresh_token_expires()
    {
        var first = await factory.SignInDeviceAsync();
        factory.Clock.Advance(TimeSpan.FromDays(15));

        (await _device.RefreshAsync(first.Get("refresh_token"))).Error.ShouldBe("invalid_grant");
    }

    [Fact]
    public async Task A_family_ends_at_its_absolute_lifetime_however_often_it_is_used()
    {
        var token = (await factory.SignInDeviceAsync()).Get("refresh_token");
        for (var week = 0; week < 4; week++)
        {
            factory.Clock.Advance(TimeSpan.FromDays(7));
            var refreshed = await _device.RefreshAsync(token);
            refreshed.Status.ShouldBe(HttpStatusCode.OK);
            token = refreshed.Get("refresh_token");
        }
        factory.Clock.Advance(TimeSpan.FromDays(3)); // 31 days after sign-in

        (await _device.RefreshAsync(token)).Error.ShouldBe("invalid_grant");
    }

    [Fact]
    public async Task The_rotated_refresh_token_keeps_working()
    {
        var token = (await factory.SignInDeviceAsync()).Get("refresh_token");
        for (var i = 0; i < 3; i++)
        {
            var refreshed = await _device.RefreshAsync(token);
            refreshed.Status.ShouldBe(HttpStatusCode.OK);
            token = refreshed.Get("refresh_token");
        }
    }

    [Fact]
    public async Task An_unknown_refresh_token_is_invalid_grant()
    {
        var answer = await _device.RefreshAsync("made-up");

        answer.Status.ShouldBe(HttpStatusCode.BadRequest);
        answer.Error.ShouldBe("invalid_grant");
    }

    [Fact]
    public async Task A_refresh_token_past_the_absolute_lifetime_is_invalid_grant()
    {
        var first = await factory.SignInDeviceAsync();
        factory.Clock.Advance(TimeSpan.FromDays(31));

        (await _device.RefreshAsync(first.Get("refresh_token"))).Error.ShouldBe("invalid_grant");
    }

    [Fact]
    public async Task Another_client_cannot_use_the_refresh_token()
    {
        var first = await factory.SignInDeviceAsync();

        var answer = await _device.RefreshAsync(first.Get("refresh_token"), clientId: "web");

        answer.Status.ShouldBe(HttpStatusCode.BadRequest);
        answer.Error.ShouldBe("invalid_grant");
    }

    [Fact]
    public async Task A_narrower_scope_may_be_requested_and_the_session_survives()
    {
        var first = await factory.SignInDeviceAsync();

        var narrow = await _device.RefreshAsync(first.Get("refresh_token"), scope: "api");
        narrow.Status.ShouldBe(HttpStatusCode.OK);
        // RFC 6749 §5.1: scope may be left out when it is exactly what was asked for.
        (narrow.Json.TryGetProperty("scope", out var granted) ? granted.GetString() : "api").ShouldBe("api");
        new JsonWebToken(narrow.Get("access_token")).GetClaim("scope").Value.ShouldBe("api");

        // RFC 6749 §6: the new refresh token keeps the original scope.
        var full = await _device.RefreshAsync(narrow.Get("refresh_token"));
        full.Get("scope").ShouldBe(Infrastructure.Protocol.DemoScopes);
    }

    [Fact]
    public async Task A_wider_scope_is_invalid_scope()
    {
        var first = await factory.SignInDeviceAsync(scope: "openid offline_access");

        var answer = await _device.RefreshAsync(first.Get("refresh_token"), scope: "openid offline_access api");

        answer.Status.ShouldBe(HttpStatusCode.BadRequest);
        answer.Error.ShouldBe("invalid_scope");
    }

    [Fact]
    public async Task Twenty_parallel_uses_of_one_refresh_token_are_reuse_and_log_the_device_out()
    {
        var first = await factory.SignInDeviceAsync();

        var answers = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => Task.Run(() => _device.RefreshAsync(first.Get("refresh_token")))));

        // A rotated token may be retried once, for a lost response; twenty uses are a second holder.
        answers.Count(a => a.Status == HttpStatusCode.OK).ShouldBeLessThanOrEqualTo(2);
        answers.Where(a => a.Status != HttpStatusCode.OK).ShouldAllBe(a => a.Error == "invalid_grant");
        answers.ShouldContain(a => a.Status == HttpStatusCode.BadRequest);
        // The device is logged out: nothing any of the uses got still works.
        foreach (var issued in answers.Where(a => a.Status == HttpStatusCode.OK))
        {
            (await _device.RefreshAsync(issued.Get("refresh_token"))).Error.ShouldBe("invalid_grant");
            using var request = new HttpRequestMessage(HttpMethod.Get, "/connect/userinfo");
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", issued.Get("access_token"));
            (await _device.SendAsync(request)).StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
        }
        await using var scope = factory.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AuthServer.Data.AuthServerDbContext>();
        (await db.AuditEvents.CountAsync(e => e.Type == AuthServer.Data.Audit.RefreshTokenReuse)).ShouldBeGreaterThanOrEqualTo(1);
    }

    [Fact]
    public async Task A_refresh_updates_the_linked_devices_last_use()
    {
        var first = await factory.SignInDeviceAsync();
        var deviceId = new JsonWebToken(first.Get("access_token")).GetClaim("device_id").Value;
        factory.Clock.Advance(TimeSpan.FromHours(2));

        (await _device.RefreshAsync(first.Get("refresh_token"))).Status.ShouldBe(HttpStatusCode.OK);

        await using var connection = await factory.OpenDatabaseAsync();
        // The linked device is OpenIddict's authorization, with the columns the device list shows.
        var rows = await connection.RowsAsync("SELECT a.\"LastUsedAt\", a.\"DeviceName\", c.\"ClientId\" FROM \"OpenIddictAuthorizations\" a " +
            "JOIN \"OpenIddictApplications\" c ON c.\"Id\" = a.\"ApplicationId\" WHERE a.\"Id\" = @id", ("@id", deviceId));
        rows.Count.ShouldBe(1);
        rows[0].ShouldBe([factory.Clock.GetUtcNow().ToUnixTimeMilliseconds(), "Living room TV", "demo-tv"]);
    }
}
