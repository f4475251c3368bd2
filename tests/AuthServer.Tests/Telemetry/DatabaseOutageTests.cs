using System.Net;
using System.Net.Http.Headers;
using AuthServer.Tests.Infrastructure;
using Microsoft.Data.Sqlite;

namespace AuthServer.Tests.Telemetry;

/// <summary>
/// A real outage: another connection holds SQLite's write lock (<c>BEGIN EXCLUSIVE</c>, as an admin command or a
/// backup tool might), so every write fails with "database is locked" once the busy timeout (here 1 s) runs out.
/// </summary>
public sealed class DatabaseOutageTests
{
    [Fact]
    public async Task While_the_database_is_locked_every_door_answers_503_with_retry_after_and_the_flow_completes_once_it_is_released()
    {
        using var factory = new AuthServerFactory();
        factory.ConnectionString += ";Default Timeout=1";
        var device = factory.CreateClient();

        // Before the outage: one request approved and waiting to be redeemed, one still pending, a phone signed in.
        var approved = await device.StartAsync();
        await factory.DecideAsDemoUserAsync(approved.Get("user_code"), approve: true);
        var pending = await device.StartAsync();
        var phone = await PhoneApp.SignInNewAccountAsync(factory);
        var browser = factory.CreateBrowser();
        await browser.SignInAsync();

        using (var holder = new SqliteConnection($"Data Source={factory.DatabasePath}"))
        {
            holder.Open();
            using (var begin = holder.CreateCommand())
            {
                begin.CommandText = "BEGIN EXCLUSIVE";
                begin.ExecuteNonQuery();
            }

            var start = await device.StartAsync();
            ShouldBeTemporarilyUnavailable(start);

            var redeem = await device.PollAsync(approved.Get("device_code"));
            ShouldBeTemporarilyUnavailable(redeem);

            var scan = await phone.ScanAsync(pending.Get("user_code"));
            scan.ShouldBeProblem(HttpStatusCode.ServiceUnavailable, "Service temporarily unavailable");
            ShouldAskToRetry(scan.Response);

            using var pageRequest = new HttpRequestMessage(HttpMethod.Get, $"/device?user_code={Uri.EscapeDataString(pending.Get("user_code"))}");
            pageRequest.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/html"));
            var page = await browser.SendAsync(pageRequest);
            page.StatusCode.ShouldBe(HttpStatusCode.ServiceUnavailable);
            page.Content.Headers.ContentType!.MediaType.ShouldBe("text/html");
            ShouldAskToRetry(page);
            Browser.Result(await page.Content.ReadAsStringAsync()).ShouldContain("wait a few seconds");

            var ready = await Infrastructure.Protocol.ReadAsync(await device.GetAsync("/health/ready"));
            ready.ShouldBeProblem(HttpStatusCode.ServiceUnavailable, "Database unavailable");
            ShouldAskToRetry(ready.Response);

            using var release = holder.CreateCommand();
            release.CommandText = "ROLLBACK";
            release.ExecuteNonQuery();
        }

        // Released: no restart, the same requests go through. Readiness comes back once the outage is a few seconds old.
        factory.Clock.Advance(TimeSpan.FromSeconds(11));
        (await device.GetAsync("/health/ready")).StatusCode.ShouldBe(HttpStatusCode.OK);

        var tokens = await device.PollAsync(approved.Get("device_code"));
        tokens.Status.ShouldBe(HttpStatusCode.OK, $"body: {tokens.Json}");
        tokens.Get("access_token").ShouldNotBeNullOrEmpty();

        await phone.ScanAndApproveAsync(pending.Get("user_code"));
        var second = await device.PollAsync(pending.Get("device_code"));
        second.Status.ShouldBe(HttpStatusCode.OK, $"body: {second.Json}");

        var fresh = await device.StartAsync();
        fresh.Status.ShouldBe(HttpStatusCode.OK);
        (await browser.OpenVerificationAsync(fresh.Get("user_code"))).ShouldContain(fresh.Get("user_code"));
    }

    private static void ShouldBeTemporarilyUnavailable(Infrastructure.Protocol.Answer answer)
    {
        answer.Status.ShouldBe(HttpStatusCode.ServiceUnavailable, $"body: {answer.Json}");
        answer.Error.ShouldBe("temporarily_unavailable");
        answer.Get("error_description").ShouldContain("database");
        answer.Response.Headers.CacheControl!.NoStore.ShouldBeTrue();
        // The exception handler clears the headers; the correlation id is put back, so the caller can quote it.
        answer.Response.Headers.GetValues(AuthServer.Hosting.CorrelationId.Header).Single().ShouldNotBeNullOrEmpty();
        ShouldAskToRetry(answer.Response);
    }

    private static void ShouldAskToRetry(HttpResponseMessage response) =>
        response.Headers.RetryAfter!.Delta.ShouldBe(TimeSpan.FromSeconds(5));
}
