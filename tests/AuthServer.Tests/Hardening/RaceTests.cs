using System.Net;
using AuthServer.Tests.Infrastructure;
using Microsoft.IdentityModel.JsonWebTokens;

namespace AuthServer.Tests.Hardening;

/// <summary>
/// Concurrent requests that race for one thing, on both providers: each race has exactly one winner, and what the
/// database keeps afterwards agrees with what the callers were told. (The redemption, claim and refresh-reuse races of
/// the protocol classes stay where they are; these add the ones the hardening issue lists.)
/// </summary>
public abstract class RaceTests(AuthServerFactory factory)
{
    private const string RefreshTokenType = OpenIddict.Abstractions.OpenIddictConstants.TokenTypeIdentifiers.RefreshToken;

    public sealed class OnSqlite(AuthServerFactory server) : RaceTests(server), IClassFixture<AuthServerFactory>;

    public sealed class OnPostgreSql(PostgreSqlAuthServerFactory server) : RaceTests(server), IClassFixture<PostgreSqlAuthServerFactory>;

    [Fact]
    public async Task A_hundred_parallel_redemptions_of_one_approved_code_give_exactly_one_set_of_tokens()
    {
        var device = factory.CreateClient();
        var started = await device.StartAsync();
        await factory.DecideAsDemoUserAsync(started.Get("user_code"), approve: true);

        var polls = await Task.WhenAll(Enumerable.Range(0, 100).Select(_ => Task.Run(() => device.PollAsync(started.Get("device_code")))));

        var winner = polls.Where(p => p.Status == HttpStatusCode.OK).ShouldHaveSingleItem();
        polls.Where(p => p.Status != HttpStatusCode.OK).ShouldAllBe(p => p.Status == HttpStatusCode.BadRequest && p.Error == "invalid_grant");
        var linkedDevice = new JsonWebToken(winner.Get("access_token")).GetClaim("device_id").Value;
        await using var connection = await factory.OpenDatabaseAsync();
        // One linked device, with one refresh token and one access token: nothing was issued twice.
        (await connection.ScalarAsync<int>("SELECT COUNT(*) FROM \"OpenIddictTokens\" WHERE \"AuthorizationId\" = @id AND \"Type\" = @type",
            ("@id", linkedDevice), ("@type", RefreshTokenType))).ShouldBe(1);
        (await connection.ScalarAsync<int>("SELECT COUNT(*) FROM \"DeviceAuthorizations\" WHERE \"LinkedDeviceId\" = @id AND \"Status\" = 'Redeemed'",
            ("@id", linkedDevice))).ShouldBe(1);
        (await device.RefreshAsync(winner.Get("refresh_token"))).Status.ShouldBe(HttpStatusCode.OK);
    }

    public static TheoryData<bool, bool> Decisions => new() { { true, true }, { true, false }, { false, true } };

    /// <summary>
    /// The account's phone (the phone API, with its confirm ticket) and the same account's browser (the verification
    /// page) decide one login request at the same moment: one decision lands, the other is told the request is no
    /// longer open, and the waiting screen hears the one that landed.
    /// </summary>
    [Theory]
    [MemberData(nameof(Decisions))]
    public async Task A_phone_and_a_browser_deciding_one_request_at_once_give_one_outcome(bool phoneApproves, bool browserApproves)
    {
        var account = await PhoneApp.NewAccountAsync(factory, "race");
        var phone = await PhoneApp.SignInAsync(factory, account);
        var browser = factory.CreateBrowser();
        await browser.SignInAsync(account);
        var device = factory.CreateClient();

        for (var i = 0; i < 8; i++)
        {
            var started = await device.StartAsync();
            var userCode = started.Get("user_code");
            var page = await browser.OpenVerificationAsync(userCode);
            var scan = await phone.ScanOkAsync(userCode);

            var fromPhone = Task.Run(() => phoneApproves ? phone.ApproveAsync(scan.ScanId, scan.ConfirmTicket) : phone.DenyAsync(scan.ScanId, scan.ConfirmTicket));
            var fromBrowser = Task.Run(() => browser.PostAsync($"/device?handler={(browserApproves ? "Approve" : "Deny")}", new FormUrlEncodedContent(
                new Dictionary<string, string> { ["user_code"] = userCode, ["__RequestVerificationToken"] = Browser.AntiforgeryToken(page) })));
            var (phoneAnswer, browserAnswer) = (await fromPhone, await fromBrowser);

            browserAnswer.StatusCode.ShouldBe(HttpStatusCode.OK, $"iteration {i}");
            var browserResult = Browser.Result(await browserAnswer.Content.ReadAsStringAsync());
            await using var connection = await factory.OpenDatabaseAsync();
            var status = await connection.ScalarAsync<string>("SELECT \"Status\" FROM \"DeviceAuthorizations\" WHERE \"Id\" = @id", ("@id", scan.ScanId));
            bool approved;
            if (phoneAnswer.Status == HttpStatusCode.NoContent)
            {
                approved = phoneApproves;
                // The browser lost: it is told the code was used, and says nothing of having decided.
                browserResult.ShouldBe("This code has already been used. Ask the device for a new one.", $"iteration {i}");
            }
            else
            {
                // The phone lost: the request is closed, or its ticket was spent by the decision that landed.
                phoneAnswer.ShouldBeProblem(phoneAnswer.Status == HttpStatusCode.Gone ? HttpStatusCode.Gone : HttpStatusCode.Forbidden);
                approved = browserApproves;
                browserResult.ShouldEndWith(browserApproves ? "is now signed in. You can return to it." : "will not be signed in.", Case.Sensitive, $"iteration {i}");
            }
            status.ShouldBe(approved ? "Approved" : "Denied", $"iteration {i}");
            var poll = await device.PollAsync(started.Get("device_code"));
            if (approved) poll.Status.ShouldBe(HttpStatusCode.OK, $"iteration {i}: {poll.Json}");
            else poll.Error.ShouldBe("access_denied", $"iteration {i}");
            // One decision is audited, the one that landed.
            (await connection.ScalarAsync<int>("SELECT COUNT(*) FROM \"AuditEvents\" WHERE \"Type\" IN ('login_request.approved', 'login_request.denied') " +
                "AND \"Detail\" LIKE @id", ("@id", $"%{scan.ScanId}%"))).ShouldBe(1, $"iteration {i}");
        }
    }

    [Fact]
    public async Task Two_phones_of_one_account_approving_at_once_give_one_outcome_and_only_the_latest_scan_may_decide()
    {
        var account = await PhoneApp.NewAccountAsync(factory, "race");
        var first = await PhoneApp.SignInAsync(factory, account);
        var second = await PhoneApp.SignInAsync(factory, account);
        var device = factory.CreateClient();

        for (var i = 0; i < 8; i++)
        {
            var started = await device.StartAsync();
            var firstScan = await first.ScanOkAsync(started.Get("user_code"));
            var secondScan = await second.ScanOkAsync(started.Get("user_code"));

            var answers = await Task.WhenAll(
                Task.Run(() => first.ApproveAsync(firstScan.ScanId, firstScan.ConfirmTicket)),
                Task.Run(() => second.ApproveAsync(secondScan.ScanId, secondScan.ConfirmTicket)),
                Task.Run(() => second.DenyAsync(secondScan.ScanId, secondScan.ConfirmTicket)));

            // The second scan replaced the first phone's ticket; of the second phone's two uses of its ticket, one lands.
            answers[0].ShouldBeProblem(HttpStatusCode.Forbidden);
            var landed = answers.Where(a => a.Status == HttpStatusCode.NoContent).ShouldHaveSingleItem($"iteration {i}");
            answers.Where(a => a != landed).ShouldAllBe(a => (int)a.Status >= 400 && (int)a.Status < 500);
            var poll = await device.PollAsync(started.Get("device_code"));
            if (landed == answers[1]) poll.Status.ShouldBe(HttpStatusCode.OK, $"iteration {i}: {poll.Json}");
            else poll.Error.ShouldBe("access_denied", $"iteration {i}");
        }
    }

    /// <summary>
    /// A client that sends its refresh twice at once (a retry racing the first try) may get two answers, since one
    /// retry is allowed for a lost response (RFC 9700 §4.14.2); the family still keeps exactly one live refresh token,
    /// the device stays signed in, and exactly one of the tokens handed out continues it.
    /// </summary>
    [Fact]
    public async Task Two_concurrent_refreshes_leave_the_family_with_exactly_one_live_refresh_token()
    {
        var device = factory.CreateClient();
        for (var i = 0; i < 5; i++)
        {
            var signedIn = await factory.SignInDeviceAsync();
            var linkedDevice = new JsonWebToken(signedIn.Get("access_token")).GetClaim("device_id").Value;

            var answers = await Task.WhenAll(Enumerable.Range(0, 2).Select(_ => Task.Run(() => device.RefreshAsync(signedIn.Get("refresh_token")))));

            var issued = answers.Where(a => a.Status == HttpStatusCode.OK).ToList();
            issued.Count.ShouldBeInRange(1, 2, $"iteration {i}");
            answers.Where(a => a.Status != HttpStatusCode.OK).ShouldAllBe(a => a.Error == "invalid_grant");
            await using (var connection = await factory.OpenDatabaseAsync())
            {
                (await connection.ScalarAsync<int>("SELECT COUNT(*) FROM \"OpenIddictTokens\" WHERE \"AuthorizationId\" = @id " +
                    "AND \"Type\" = @type AND \"Status\" = 'valid'", ("@id", linkedDevice), ("@type", RefreshTokenType))).ShouldBe(1, $"iteration {i}");
                (await connection.ScalarAsync<string>("SELECT \"Status\" FROM \"OpenIddictAuthorizations\" WHERE \"Id\" = @id", ("@id", linkedDevice)))
                    .ShouldBe("valid", $"iteration {i}");
            }
            var continued = new List<Infrastructure.Protocol.Answer>();
            foreach (var answer in issued) continued.Add(await device.RefreshAsync(answer.Get("refresh_token")));
            continued.Count(c => c.Status == HttpStatusCode.OK).ShouldBe(1, $"iteration {i}");
            continued.Where(c => c.Status != HttpStatusCode.OK).ShouldAllBe(c => c.Error == "invalid_grant");
        }
    }
}
