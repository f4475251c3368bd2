using System.Net;
using AuthServer.Cluster;
using AuthServer.Tests.Infrastructure;
using Npgsql;

namespace AuthServer.Tests.Cluster;

/// <summary>
/// PostgreSQL goes away in the middle of a login and comes back: both nodes answer 503 with Retry-After meanwhile,
/// then recover without a restart, and the login completes with nothing lost.
/// </summary>
[Collection(ServerProcesses.Name)]
public sealed class FaultTests
{
    [Fact]
    public async Task A_login_survives_the_database_stopping_and_starting_in_the_middle()
    {
        await using var postgres = await ThrowawayPostgres.CreateAsync();
        await postgres.CreateDatabaseAsync("authserver");
        var database = postgres.ConnectionString("authserver");
        var (portA, portB) = (ServerNode.FreePort(), ServerNode.FreePort());
        var issuer = new Uri($"http://localhost:{portA}");
        await using var a = await ServerNode.StartAsync("A", portA, database, issuer);
        await using var b = await ServerNode.StartAsync("B", portB, database, issuer);

        var started = await a.Http.StartAsync(ServerNode.FastClient, "openid offline_access api");
        var deviceCode = started.Get("device_code");
        using var stream = await EventStream.OpenAsync(a.Http, deviceCode, ServerNode.FastClient);
        await stream.ExpectEventAsync("pending", 0);
        using var phoneBrowser = b.CreateBrowser();
        var phone = await PhoneApp.SignInAsync(phoneBrowser, b.Http);
        var scan = await phone.ScanOkAsync(started.Get("user_code"));
        await stream.ExpectEventAsync("scanned", 1);

        await postgres.StopAsync();

        // The screen's poll and the phone's approval meet the outage: 503 with Retry-After, never a 500.
        var poll = await Eventually.GetAsync(async () =>
            await a.Http.PollAsync(deviceCode, ServerNode.FastClient) is { Status: HttpStatusCode.ServiceUnavailable } unavailable ? unavailable : null,
            "a poll to meet the outage");
        poll.Error.ShouldBe("temporarily_unavailable");
        poll.Response.Headers.RetryAfter!.Delta.ShouldBe(TimeSpan.FromSeconds(5));
        var approval = await phone.ApproveAsync(scan.ScanId, scan.ConfirmTicket);
        approval.Status.ShouldBe(HttpStatusCode.ServiceUnavailable, $"{approval.Json}");
        approval.Response.Headers.RetryAfter.ShouldNotBeNull();
        approval.Json.GetProperty("status").GetInt32().ShouldBe(503);
        var ready = await a.Http.GetAsync("/health/ready");
        ready.StatusCode.ShouldBe(HttpStatusCode.ServiceUnavailable);
        ready.Headers.RetryAfter.ShouldNotBeNull();

        await postgres.StartAsync();

        // Both nodes serve again by themselves, and both listen to each other again.
        await a.WaitUntilReadyAsync(TimeSpan.FromSeconds(60));
        await b.WaitUntilReadyAsync(TimeSpan.FromSeconds(60));
        await Eventually.TrueAsync(async () =>
        {
            await using var db = new NpgsqlConnection(database);
            await db.OpenAsync();
            return await db.ScalarAsync<long>("SELECT count(*) FROM pg_stat_activity WHERE application_name = @name",
                ("@name", "AuthServer cluster events")) == 2;
        }, "both nodes to listen again", TimeSpan.FromSeconds(30));

        // The same scan and its ticket still decide: the failed approval changed nothing.
        (await phone.ApproveAsync(scan.ScanId, scan.ConfirmTicket)).Status.ShouldBe(HttpStatusCode.NoContent);
        await stream.ExpectEventAsync("approved", 2);
        var tokens = await a.Http.PollAsync(deviceCode, ServerNode.FastClient);
        tokens.Status.ShouldBe(HttpStatusCode.OK, $"{tokens.Json}");
        tokens.Get("token_type").ShouldBe("Bearer");
        (await b.Http.PollAsync(deviceCode, ServerNode.FastClient)).Error.ShouldBe("invalid_grant");

        // What was issued before the outage still works on either node.
        var refreshed = await a.Http.RefreshAsync(phone.RefreshToken!, "phone");
        refreshed.Status.ShouldBe(HttpStatusCode.OK, $"{refreshed.Json}");
        a.Output.ShouldContain("Cluster events: listening again");
    }
}
