using System.Net;
using AuthServer.Data;
using AuthServer.Tests.Data;
using AuthServer.Tests.Infrastructure;

namespace AuthServer.Tests.RateLimits;

/// <summary>
/// Two servers on one PostgreSQL database, as two nodes behind a load balancer: a limit counted on one is spent on
/// the other, and a DPoP proof used on one is a replay on the other (RFC 9449 §11.1).
/// </summary>
public sealed class SharedAcrossNodesTests
{
    private static (AuthServerFactory A, AuthServerFactory B) TwoNodes(Dictionary<string, string?> settings)
    {
        var a = AuthServerFactory.With(settings, DatabaseProvider.PostgreSql);
        var b = AuthServerFactory.With(settings, DatabaseProvider.PostgreSql);
        // B serves A's database; the one it was given stays empty and is dropped with it.
        b.ConnectionString = a.ConnectionString;
        _ = a.Server;
        _ = b.Server;
        return (a, b);
    }

    [Fact]
    public async Task A_networks_lookup_budget_is_one_count_for_both_nodes_and_audited_once()
    {
        var (a, b) = TwoNodes(new() { ["RateLimits:UserCodeLookupsPerNetwork:PermitLimit"] = "2" });
        using (a)
        using (b)
        {
            var onA = a.CreateBrowser("198.51.100.1");
            await onA.SignInAsync();
            var onB = b.CreateBrowser("198.51.100.2");
            await onB.SignInAsync();

            (await onA.GetAsync("/device?user_code=BCDF-GHJK")).StatusCode.ShouldBe(HttpStatusCode.OK);
            (await onB.GetAsync("/device?user_code=BCDF-GHJL")).StatusCode.ShouldBe(HttpStatusCode.OK);

            var refusedOnA = await onA.GetAsync("/device?user_code=BCDF-GHJM");
            refusedOnA.StatusCode.ShouldBe(HttpStatusCode.TooManyRequests);
            Browser.Result(await refusedOnA.Content.ReadAsStringAsync()).ShouldContain("Too many codes were tried");
            (await onB.GetAsync("/device?user_code=BCDF-GHJN")).StatusCode.ShouldBe(HttpStatusCode.TooManyRequests);

            var audited = await AuditLogTests.EventsAsync(a, e => e.Type == Audit.UserCodeRateLimited);
            audited.Count.ShouldBe(1, "the nodes share the count, so only one of them sees the first refusal");
            audited[0].Detail.ShouldNotBeNull().ShouldContain("from the network 198.51.100.0/24");
        }
    }

    [Fact]
    public async Task A_dpop_proof_used_on_one_node_is_refused_as_a_replay_on_the_other()
    {
        var (a, b) = TwoNodes([]);
        using (a)
        using (b)
        {
            var httpA = a.CreateClient();
            var httpB = b.CreateClient();
            using var key = DpopKey.Ec(a.Clock);
            // The nonce is derived from the shared signing key, so either node's is good on both.
            var challenge = await Post(httpA, key.Proof("POST", DpopKey.Url(httpA, "/connect/device")));
            challenge.Error.ShouldBe("use_dpop_nonce");
            var proof = key.Proof("POST", DpopKey.Url(httpA, "/connect/device"), DpopKey.NonceOf(challenge.Response));

            var started = await Post(httpA, proof);
            started.Status.ShouldBe(HttpStatusCode.OK, $"body: {started.Json}");
            var replayed = await Post(httpB, proof);

            replayed.Status.ShouldBe(HttpStatusCode.BadRequest, $"body: {replayed.Json}");
            replayed.Error.ShouldBe("invalid_dpop_proof");
            replayed.Get("error_description").ShouldBe("The DPoP proof was already used.");
        }
    }

    private static async Task<Infrastructure.Protocol.Answer> Post(HttpClient http, string proof)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/connect/device")
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string> { ["client_id"] = "demo-tv", ["scope"] = Infrastructure.Protocol.DemoScopes }),
        };
        request.Headers.TryAddWithoutValidation(DpopKey.Header, proof);
        return await Infrastructure.Protocol.ReadAsync(await http.SendAsync(request));
    }
}
