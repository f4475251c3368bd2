using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using AuthServer.Hosting;
using AuthServer.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace AuthServer.Tests.Telemetry;

public sealed class TracingTests
{
    [Fact]
    public async Task The_login_flow_has_a_span_for_the_request_the_scan_the_decision_and_the_redemption_in_the_requests_trace()
    {
        var spans = new ConcurrentQueue<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == AuthServerTraces.Name,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = spans.Enqueue,
        };
        ActivitySource.AddActivityListener(listener);
        using var factory = new AuthServerFactory();
        var device = factory.CreateClient();
        var started = await device.StartAsync();
        var phone = await PhoneApp.SignInNewAccountAsync(factory);
        var scan = await phone.ScanOkAsync(started.Get("user_code"));
        (await phone.ApproveAsync(scan.ScanId, scan.ConfirmTicket)).Status.ShouldBe(HttpStatusCode.NoContent);
        (await device.PollAsync(started.Get("device_code"))).Status.ShouldBe(HttpStatusCode.OK);

        // Other tests' servers run in this process too: only this login request's spans count.
        var ours = spans.Where(s => s.GetTagItem(AuthServerTraces.LoginRequestIdTag) as string == scan.ScanId).ToList();
        ours.Select(s => s.OperationName).ShouldBe(["login_request.create", "login_request.scan", "login_request.decide", "login_request.redeem"]);
        ours[1].GetTagItem(AuthServerTraces.OutcomeTag).ShouldBe("Claimed");
        ours[2].GetTagItem(AuthServerTraces.OutcomeTag).ShouldBe("Approved");
        ours[3].GetTagItem(AuthServerTraces.OutcomeTag).ShouldBe("redeemed");
        // Each span is a child of its HTTP request's activity, whose trace id is the response's correlation id.
        ours[0].TraceId.ToHexString().ShouldBe(started.Response.Headers.GetValues(CorrelationId.Header).Single());
        ours.ShouldAllBe(s => s.ParentSpanId != default);
    }

    [Fact]
    public void With_no_exporter_configured_no_OpenTelemetry_provider_is_built()
    {
        using var factory = new AuthServerFactory();
        factory.Services.GetService<TracerProvider>().ShouldBeNull();
        factory.Services.GetService<MeterProvider>().ShouldBeNull();
    }

    [Fact]
    public async Task An_otlp_endpoint_turns_on_traces_and_metrics_and_a_collector_that_is_down_costs_no_request_anything()
    {
        using var factory = AuthServerFactory.With(new() { [AuthServer.Hosting.Telemetry.OtlpEndpointKey] = "http://127.0.0.1:9/" });
        factory.Services.GetService<TracerProvider>().ShouldNotBeNull();
        factory.Services.GetService<MeterProvider>().ShouldNotBeNull();

        var tokens = await factory.SignInDeviceAsync();

        tokens.Get("access_token").ShouldNotBeNullOrEmpty();
        (await factory.CreateClient().GetAsync("/metrics")).StatusCode.ShouldBe(HttpStatusCode.NotFound);
    }
}
