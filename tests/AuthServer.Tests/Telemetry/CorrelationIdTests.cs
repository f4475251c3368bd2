using System.Net;
using System.Text.Json;
using AuthServer.Hosting;
using AuthServer.Tests.Infrastructure;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Logging.Console;

namespace AuthServer.Tests.Telemetry;

public sealed class CorrelationIdTests
{
    private sealed class CapturingFactory(LogCapture capture) : AuthServerFactory
    {
        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            base.ConfigureWebHost(builder);
            builder.UseSetting("Logging:LogLevel:AuthServer", "Information");
            builder.ConfigureLogging(logging => logging.AddProvider(capture));
        }
    }

    private static async Task<HttpResponseMessage> GetAsync(HttpClient http, string path, params (string Name, string Value)[] headers)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        foreach (var (name, value) in headers) request.Headers.TryAddWithoutValidation(name, value);
        return await http.SendAsync(request);
    }

    private static string Echoed(HttpResponseMessage response) => response.Headers.GetValues(CorrelationId.Header).Single();

    [Fact]
    public async Task A_well_formed_incoming_id_is_echoed_and_carried_by_the_requests_log_lines()
    {
        var capture = new LogCapture();
        using var factory = new CapturingFactory(capture);
        var device = factory.CreateClient();
        var started = await device.StartAsync();
        var phone = factory.CreateBrowser();
        await phone.SignInAsync();
        var page = await phone.OpenVerificationAsync(started.Get("user_code"));
        phone.DefaultRequestHeaders.Add(CorrelationId.Header, "support-ticket-4711");

        var approve = await phone.PostAsync("/device?handler=Approve", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["user_code"] = started.Get("user_code"),
            ["__RequestVerificationToken"] = Browser.AntiforgeryToken(page),
        }));

        approve.StatusCode.ShouldBe(HttpStatusCode.OK);
        Echoed(approve).ShouldBe("support-ticket-4711");
        capture.Lines.ShouldContain(line => line.Text.Contains("is now Approved", StringComparison.Ordinal)
            && line.Text.Contains("CorrelationId=support-ticket-4711", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("two words")]
    [InlineData("<script>")]
    [InlineData("an-id-that-is-far-too-long-to-be-anyones-correlation-id-0123456789abcdef")]
    public async Task A_malformed_incoming_id_is_replaced_by_a_trace_id(string given)
    {
        using var factory = new AuthServerFactory();

        var response = await GetAsync(factory.CreateClient(), "/health/live", (CorrelationId.Header, given));

        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        Echoed(response).ShouldNotBe(given);
        Echoed(response).ShouldMatch("^[0-9a-f]{32}$");
    }

    [Fact]
    public async Task Without_an_id_the_callers_traceparent_trace_id_is_the_correlation_id_and_each_request_gets_its_own()
    {
        using var factory = new AuthServerFactory();
        var http = factory.CreateClient();

        var traced = await GetAsync(http, "/health/live", ("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"));
        var first = await GetAsync(http, "/health/live");
        var second = await GetAsync(http, "/health/live");

        Echoed(traced).ShouldBe("4bf92f3577b34da6a3ce929d0e0e4736");
        Echoed(first).ShouldMatch("^[0-9a-f]{32}$");
        Echoed(first).ShouldNotBe(Echoed(second));
    }

    [Theory]
    [InlineData("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", "4bf92f3577b34da6a3ce929d0e0e4736")]
    [InlineData("00-00000000000000000000000000000000-00f067aa0ba902b7-01", null)]
    [InlineData("00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01", null)]
    [InlineData("garbage", null)]
    public void A_traceparents_trace_id_is_read_only_when_valid(string traceparent, string? expected) =>
        CorrelationId.TraceIdOf(traceparent).ShouldBe(expected);

    [Fact]
    public void Json_logs_are_one_line_objects_with_a_utc_timestamp_and_the_correlation_id_scope()
    {
        using var factory = AuthServerFactory.With(new() { [StructuredLogs.FormatKey] = "json" });
        factory.Services.GetRequiredService<Microsoft.Extensions.Options.IOptionsMonitor<ConsoleLoggerOptions>>().CurrentValue
            .FormatterName.ShouldBe(ConsoleFormatterNames.Json);
        var formatter = factory.Services.GetServices<ConsoleFormatter>().Single(f => f.Name == ConsoleFormatterNames.Json);
        var scopes = new LoggerExternalScopeProvider();
        using var scope = scopes.Push(new Dictionary<string, object?> { [CorrelationId.ScopeKey] = "abc-123" });
        using var output = new StringWriter();

        formatter.Write(new LogEntry<string>(LogLevel.Information, "AuthServer.Test", new EventId(1), "hello", null, (s, _) => s), scopes, output);

        var line = output.ToString().TrimEnd('\n', '\r');
        line.ShouldNotContain('\n');
        using var json = JsonDocument.Parse(line);
        json.RootElement.GetProperty("Timestamp").GetString()!.ShouldEndWith("Z");
        json.RootElement.GetProperty("Message").GetString().ShouldBe("hello");
        var scopeIds = json.RootElement.GetProperty("Scopes").EnumerateArray()
            .Where(s => s.ValueKind == JsonValueKind.Object && s.TryGetProperty(CorrelationId.ScopeKey, out _))
            .Select(s => s.GetProperty(CorrelationId.ScopeKey).GetString());
        scopeIds.ShouldBe(["abc-123"]);
    }
}
