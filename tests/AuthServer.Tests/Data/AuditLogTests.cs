using System.Net;
using AuthServer.Data;
using AuthServer.Data.Entities;
using AuthServer.Tests.Infrastructure;
using AuthServer.Tests.Pages;
using AuthServer.Tests.Phone;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.IdentityModel.JsonWebTokens;
using OpenIddict.Abstractions;

namespace AuthServer.Tests.Data;

/// <summary>
/// The security events the audit log holds, each written with the change it records: by our code, by the interceptor
/// around OpenIddict's saves, or by the database trigger on a login request's transitions.
/// </summary>
public abstract class AuditLogTests(AuthServerFactory factory)
{
    public sealed class OnSqlite(AuthServerFactory server) : AuditLogTests(server), IClassFixture<AuthServerFactory>;

    public sealed class OnPostgreSql(PostgreSqlAuthServerFactory server) : AuditLogTests(server), IClassFixture<PostgreSqlAuthServerFactory>;

    internal static async Task<List<AuditEvent>> EventsAsync(AuthServerFactory factory, Func<AuditEvent, bool> which)
    {
        await using var scope = factory.Services.CreateAsyncScope();
        var all = await scope.ServiceProvider.GetRequiredService<AuthServerDbContext>().AuditEvents.AsNoTracking().OrderBy(e => e.Id).ToListAsync();
        return all.Where(which).ToList();
    }

    private static async Task<string> UserIdAsync(AuthServerFactory factory, string email)
    {
        await using var scope = factory.Services.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<Microsoft.AspNetCore.Identity.UserManager<ApplicationUser>>();
        return (await users.FindByEmailAsync(email))!.Id;
    }

    [Fact]
    public async Task A_device_login_audits_the_scan_the_approval_and_the_tokens_issued()
    {
        var account = await PhoneApp.NewAccountAsync(factory, "audit-login");
        var userId = await UserIdAsync(factory, account.Email);
        var screen = await Screen.StartAsync(factory, remoteIp: "198.51.100.20");
        var phone = await PhoneApp.SignInAsync(factory, account);

        await phone.ScanAndApproveAsync(screen.UserCode);
        var tokens = await screen.PollAsync();

        tokens.Status.ShouldBe(HttpStatusCode.OK);
        var events = await EventsAsync(factory, e => e.UserId == userId && e.Type != Audit.SignInSucceeded);
        events.Select(e => e.Type).ShouldBe([Audit.TokenIssued, Audit.LoginRequestScanned, Audit.LoginRequestApproved, Audit.TokenIssued]);
        var approved = events[2];
        approved.ClientId.ShouldBe("demo-tv");
        approved.At.ShouldBe(factory.Clock.GetUtcNow());
        approved.Detail.ShouldNotBeNull().ShouldContain("Living room TV");
        approved.Detail.ShouldContain("198.51.100.20");
        var screenTokens = events[3];
        screenTokens.ClientId.ShouldBe("demo-tv");
        screenTokens.Detail.ShouldNotBeNull().ShouldContain(new JsonWebToken(tokens.Get("access_token")).GetClaim("device_id").Value);
        screenTokens.Detail.ShouldContain("device_code");
        // Written without SaveChanges (Data/Stores), the event still says where the request came from.
        screenTokens.Ip.ShouldBe("198.51.100.20");
        // The phone's own token came from the code flow, through the phone client.
        events[0].ClientId.ShouldBe("phone");
        events[0].Detail.ShouldNotBeNull().ShouldContain("authorization_code");
    }

    [Fact]
    public async Task Signing_in_audits_each_attempt_with_its_address_and_the_lockout_once()
    {
        var account = await PhoneApp.NewAccountAsync(factory, "audit-sign-in");
        var userId = await UserIdAsync(factory, account.Email);
        var browser = factory.CreateBrowser(remoteIp: "203.0.113.7");

        for (var i = 0; i < 5; i++) await LoginTests.SubmitAsync(browser, account.Email, $"Wrong-Password-{i}");
        await LoginTests.SubmitAsync(browser, account.Email, account.Password);
        await LoginTests.SubmitAsync(browser, "nobody-audit@example.com", "Some-Password-1");

        var events = await EventsAsync(factory, e => e.UserId == userId);
        events.Select(e => e.Type).ShouldBe([.. Enumerable.Repeat(Audit.SignInFailed, 5), Audit.LockedOut, Audit.SignInFailed]);
        events.ShouldAllBe(e => e.Ip == "203.0.113.7" && e.ActorName == account.Email);
        events[4].Detail.ShouldBe("Wrong password.");
        events[6].Detail.ShouldBe("Refused: the account is locked out.");
        var unknown = (await EventsAsync(factory, e => e.Detail == "No account is named nobody-audit@example.com.")).ShouldHaveSingleItem();
        unknown.Type.ShouldBe(Audit.SignInFailed);
        unknown.UserId.ShouldBeNull();

        var other = await PhoneApp.NewAccountAsync(factory, "audit-sign-in-ok");
        var otherBrowser = factory.CreateBrowser(remoteIp: "203.0.113.8");
        await otherBrowser.SignInAsync(other);
        var succeeded = (await EventsAsync(factory, e => e.Type == Audit.SignInSucceeded && e.ActorName == other.Email)).ShouldHaveSingleItem();
        succeeded.Ip.ShouldBe("203.0.113.8");
        succeeded.UserId.ShouldBe(await UserIdAsync(factory, other.Email));
    }

    [Fact]
    public async Task Revoking_a_refresh_token_audits_the_token_and_the_end_of_its_device()
    {
        var tokens = await factory.SignInDeviceAsync();
        var deviceId = new JsonWebToken(tokens.Get("access_token")).GetClaim("device_id").Value;
        var http = factory.CreateClient();
        http.DefaultRequestHeaders.Add(AuthServerFactory.RemoteIpHeader, "192.0.2.44");

        var answer = await http.PostFormAsync("/connect/revoke", ("token", tokens.Get("refresh_token")), ("client_id", "demo-tv"));

        answer.Status.ShouldBe(HttpStatusCode.OK);
        var events = await EventsAsync(factory, e => e.Detail?.Contains(deviceId) == true && e.Type != Audit.TokenIssued);
        events.Select(e => e.Type).ShouldBe([Audit.TokenRevoked, Audit.LinkedDeviceEnded]);
        events.ShouldAllBe(e => e.Ip == "192.0.2.44" && e.ClientId == "demo-tv" && e.ActorId == null);
        events[0].Detail!.ShouldStartWith("Refresh token");
        events[1].Detail!.ShouldContain("Living room TV");
    }

    [Fact]
    public async Task A_login_requests_audit_event_commits_and_rolls_back_with_its_transition()
    {
        var screen = await Screen.StartAsync(factory);
        await using var connection = await factory.OpenDatabaseAsync();
        Task<long> ScansAsync() => connection.ScalarAsync<long>("SELECT COUNT(*) FROM \"AuditEvents\" WHERE \"Type\" = 'login_request.scanned'");
        var before = await ScansAsync();

        foreach (var commit in new[] { false, true })
        {
            await using var transaction = await connection.BeginTransactionAsync();
            await using var scan = connection.CreateCommand();
            scan.Transaction = transaction;
            scan.CommandText = "UPDATE \"DeviceAuthorizations\" SET \"Status\" = 'Scanned', \"ScannedAt\" = 1 WHERE \"UserCode\" = @code";
            var code = scan.CreateParameter();
            code.ParameterName = "@code";
            code.Value = screen.UserCode.Replace("-", "");
            scan.Parameters.Add(code);
            (await scan.ExecuteNonQueryAsync()).ShouldBe(1);
            if (commit) await transaction.CommitAsync();
            else await transaction.RollbackAsync();
        }

        (await ScansAsync()).ShouldBe(before + 1);
    }

    [Fact]
    public async Task An_event_the_interceptor_adds_is_rolled_back_with_the_save_it_belongs_to()
    {
        var tokens = await factory.SignInDeviceAsync();
        var deviceId = new JsonWebToken(tokens.Get("access_token")).GetClaim("device_id").Value;

        await using (var scope = factory.Services.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<AuthServerDbContext>();
            var authorizations = scope.ServiceProvider.GetRequiredService<IOpenIddictAuthorizationManager>();
            await using var write = await db.BeginWriteAsync(CancellationToken.None);
            (await authorizations.TryRevokeAsync((await authorizations.FindByIdAsync(deviceId))!)).ShouldBeTrue();
            await write.RollbackAsync();
        }

        (await EventsAsync(factory, e => e.Type == Audit.LinkedDeviceEnded && e.Detail!.Contains(deviceId))).ShouldBeEmpty();
        (await factory.CreateClient().RefreshAsync(tokens.Get("refresh_token"))).Status.ShouldBe(HttpStatusCode.OK);
    }
}

public abstract class AuditLogNumberMatchingTests(NumberMatchingServer server)
{
    public sealed class OnSqlite(NumberMatchingServer server) : AuditLogNumberMatchingTests(server), IClassFixture<NumberMatchingServer>;

    public sealed class OnPostgreSql(NumberMatchingServer.OnPostgreSql server) : AuditLogNumberMatchingTests(server), IClassFixture<NumberMatchingServer.OnPostgreSql>;

    private readonly AuthServerFactory _factory = server.Factory;

    [Fact]
    public async Task A_wrong_number_and_a_deny_are_audited_apart()
    {
        var phone = await PhoneApp.SignInNewAccountAsync(_factory);
        var wrong = await Screen.StartAsync(_factory);
        var denied = await Screen.StartAsync(_factory);

        var first = await phone.ScanOkAsync(wrong.UserCode);
        using (var stream = await EventStream.OpenAsync(_factory.CreateClient(), wrong.DeviceCode))
        {
            var shown = (await stream.ExpectEventAsync("scanned", id: 1)).Number.ShouldNotBeNull();
            (await phone.ApproveAsync(first.ScanId, first.ConfirmTicket, first.NumberChoices!.First(n => n != shown))).Status.ShouldBe(HttpStatusCode.Forbidden);
        }
        var second = await phone.ScanOkAsync(denied.UserCode);
        (await phone.DenyAsync(second.ScanId, second.ConfirmTicket)).Status.ShouldBe(HttpStatusCode.NoContent);

        var decisions = await AuditLogTests.EventsAsync(_factory, e => e.Type is Audit.NumberMismatch or Audit.LoginRequestDenied
            && (e.Detail!.Contains(first.ScanId) || e.Detail.Contains(second.ScanId)));
        decisions.Select(e => (e.Type, e.Detail!.Contains(first.ScanId)))
            .ShouldBe([(Audit.NumberMismatch, true), (Audit.LoginRequestDenied, false)]);
    }
}

public sealed class AuditLogRateLimitTests
{
    [Fact]
    public async Task A_guesser_over_the_limit_is_audited_once_per_window()
    {
        using var factory = AuthServerFactory.With(new() { ["RateLimits:UserCodeLookupsPerAccount:PermitLimit"] = "2" });
        var phone = factory.CreateBrowser(remoteIp: "198.51.100.99");
        await phone.SignInAsync();

        for (var i = 0; i < 5; i++) await phone.GetAsync("/device?user_code=BCDF-GHJK");
        factory.Clock.Advance(TimeSpan.FromMinutes(1));
        for (var i = 0; i < 3; i++) await phone.GetAsync("/device?user_code=BCDF-GHJK");

        var hits = await AuditLogTests.EventsAsync(factory, e => e.Type == Audit.UserCodeRateLimited);
        hits.Count.ShouldBe(2);
        hits.ShouldAllBe(e => e.Ip == "198.51.100.99" && e.Detail!.Contains("More than 2 user-code lookups"));
        (hits[1].At - hits[0].At).ShouldBe(TimeSpan.FromMinutes(1));
    }
}
