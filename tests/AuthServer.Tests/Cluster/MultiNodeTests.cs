using System.Diagnostics;
using System.Net;
using AuthServer.Tests.Infrastructure;
using Microsoft.IdentityModel.JsonWebTokens;
using Npgsql;

namespace AuthServer.Tests.Cluster;

/// <summary>
/// Two real server processes on loopback sharing one PostgreSQL database, as two nodes behind a load balancer with
/// no sticky sessions: every step of a login may reach either node.
/// </summary>
[Collection(ServerProcesses.Name)]
public sealed class MultiNodeTests
{
    [Fact]
    public async Task A_login_started_on_one_node_is_scanned_approved_streamed_redeemed_and_signed_across_both()
    {
        var database = TestPostgres.CreateDatabase();
        try
        {
            var (portA, portB) = (ServerNode.FreePort(), ServerNode.FreePort());
            var issuer = new Uri($"http://localhost:{portA}");
            // One after the other: the first applies the migrations and seeds the accounts.
            await using var a = await ServerNode.StartAsync("A", portA, database, issuer);
            await using var b = await ServerNode.StartAsync("B", portB, database, issuer);

            // Device authorization on A, and A's push stream.
            var started = await a.Http.StartAsync(ServerNode.FastClient, "openid offline_access api");
            started.Status.ShouldBe(HttpStatusCode.OK, $"{started.Json}");
            var deviceCode = started.Get("device_code");
            using var stream = await EventStream.OpenAsync(a.Http, deviceCode, ServerNode.FastClient);
            await stream.ExpectEventAsync("pending", 0);

            // The phone, signed in on B, scans and approves there; A's stream hears both within moments.
            using var phoneBrowser = b.CreateBrowser();
            var phone = await PhoneApp.SignInAsync(phoneBrowser, b.Http);
            var scan = await phone.ScanOkAsync(started.Get("user_code"));
            await stream.ExpectEventAsync("scanned", 1);
            var heard = stream.ExpectEventAsync("approved", 2);
            (await phone.ApproveAsync(scan.ScanId, scan.ConfirmTicket)).Status.ShouldBe(HttpStatusCode.NoContent);
            var sinceApproval = Stopwatch.StartNew();
            await heard;
            sinceApproval.Elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(2), $"A's stream should hear B's approval at once\nA:\n{a.Output}");
            await stream.ExpectEndAsync();

            // Polls alternating between the nodes: exactly one redeems, the others hear the code is used.
            var first = await a.Http.PollAsync(deviceCode, ServerNode.FastClient);
            first.Status.ShouldBe(HttpStatusCode.OK, $"{first.Json}");
            foreach (var node in new[] { b, a, b })
            {
                var again = await node.Http.PollAsync(deviceCode, ServerNode.FastClient);
                again.Status.ShouldBe(HttpStatusCode.BadRequest, $"node {node.Name}: {again.Json}");
                again.Error.ShouldBe("invalid_grant");
            }

            // Another client (demo-tv, 5 s interval) polls A and then B at once: B knows A's poll and slows it down.
            var tv = await b.Http.StartAsync();
            (await a.Http.PollAsync(tv.Get("device_code"))).Error.ShouldBe("authorization_pending");
            (await b.Http.PollAsync(tv.Get("device_code"))).Error.ShouldBe("slow_down");
            (await a.Http.PollAsync(tv.Get("device_code"))).Error.ShouldBe("slow_down");

            // A key rotation on A (the admin pages' Rotate now) is what B signs with next, without a restart.
            var oldKid = new JsonWebToken(first.Get("access_token")).Kid;
            using (var admin = a.CreateBrowser())
            {
                await admin.SignInAsync(AuthServerFactory.AdminEmail, AuthServerFactory.AdminPassword);
                var page = await admin.GetStringAsync("/admin/keys");
                var rotated = await admin.PostAsync("/admin/keys?handler=Rotate", new FormUrlEncodedContent(new Dictionary<string, string>
                {
                    ["__RequestVerificationToken"] = Browser.AntiforgeryToken(page),
                }));
                rotated.StatusCode.ShouldBeOneOf(HttpStatusCode.Redirect, HttpStatusCode.OK);
            }
            string newKid;
            await using (var db = new NpgsqlConnection(database))
            {
                await db.OpenAsync();
                newKid = await db.ScalarAsync<string>(
                    "SELECT \"Id\" FROM \"SigningKeys\" WHERE \"Algorithm\" = 'ES256' AND \"Status\" = 'Current'");
            }
            newKid.ShouldNotBe(oldKid);
            var refreshToken = first.Get("refresh_token");
            var signedByB = await Eventually.GetAsync(async () =>
            {
                var refreshed = await b.Http.RefreshAsync(refreshToken, ServerNode.FastClient);
                refreshed.Status.ShouldBe(HttpStatusCode.OK, $"{refreshed.Json}");
                refreshToken = refreshed.Get("refresh_token");
                var kid = new JsonWebToken(refreshed.Get("access_token")).Kid;
                return kid == newKid ? kid : null;
            }, $"B to sign with A's new key\nB:\n{b.Output}", TimeSpan.FromSeconds(10));
            signedByB.ShouldBe(newKid);
        }
        finally
        {
            NpgsqlConnection.ClearAllPools();
            TestPostgres.DropDatabase(database);
        }
    }
}
