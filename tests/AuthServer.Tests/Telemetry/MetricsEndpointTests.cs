using System.Net;
using AuthServer.Tests.Infrastructure;

namespace AuthServer.Tests.Telemetry;

public sealed class MetricsEndpointTests
{
    [Fact]
    public async Task Metrics_is_not_served_unless_configured()
    {
        using var factory = new AuthServerFactory();
        var http = factory.CreateClient();
        (await http.StartAsync()).Status.ShouldBe(HttpStatusCode.OK);

        var response = await http.GetAsync("/metrics");

        response.StatusCode.ShouldBe(HttpStatusCode.NotFound);
        (await response.Content.ReadAsStringAsync()).ShouldNotContain("authserver_");
    }

    [Fact]
    public async Task Enabled_metrics_answers_prometheus_text_with_our_counters_and_aspnetcore_and_runtime_meters()
    {
        using var factory = AuthServerFactory.With(new() { ["Telemetry:Prometheus:Enabled"] = "true" });
        var http = factory.CreateClient();
        await factory.SignInDeviceAsync();

        var response = await http.GetAsync("/metrics");

        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        response.Content.Headers.ContentType!.MediaType.ShouldBe("text/plain");
        var text = await response.Content.ReadAsStringAsync();
        text.ShouldContain("# TYPE authserver_device_authorizations_total counter");
        text.ShouldContain("authserver_scans_total{");
        text.ShouldContain("authserver_approvals_total{");
        text.ShouldContain("authserver_polls_total{");
        text.ShouldContain("result=\"approved\"");
        text.ShouldContain("authserver_tokens_issued_total{");
        text.ShouldContain("grant_type=\"device_code\"");
        text.ShouldContain("http_server_request_duration_seconds");
        text.ShouldContain("dotnet_gc_");
    }

    [Fact]
    public async Task Metrics_limited_to_an_internal_port_is_not_served_on_the_public_one()
    {
        using var factory = AuthServerFactory.With(new()
        {
            ["Telemetry:Prometheus:Enabled"] = "true",
            ["Telemetry:Prometheus:Hosts:0"] = "*:9464",
        });
        var http = factory.CreateClient();

        (await http.GetAsync("/metrics")).StatusCode.ShouldBe(HttpStatusCode.NotFound);

        using var internalPort = new HttpRequestMessage(HttpMethod.Get, "http://localhost:9464/metrics");
        var scraped = await http.SendAsync(internalPort);
        scraped.StatusCode.ShouldBe(HttpStatusCode.OK);
        (await scraped.Content.ReadAsStringAsync()).ShouldContain("# TYPE");
    }
}
