using Microsoft.Extensions.Logging.Console;
using OpenTelemetry;
using OpenTelemetry.Exporter;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace AuthServer.Hosting;

/// <summary>
/// Health, metrics, traces and logs (docs/operations.md#health, #telemetry, #logs). Nothing is exported unless
/// configured: with neither <c>Telemetry:Prometheus:Enabled</c> nor an OTLP endpoint no OpenTelemetry provider is
/// built, so our counters and spans have no listener and cost a field check each.
/// </summary>
public static class Telemetry
{
    public const string PrometheusEnabledKey = "Telemetry:Prometheus:Enabled";
    public const string PrometheusHostsKey = "Telemetry:Prometheus:Hosts";
    public const string OtlpEndpointKey = "Telemetry:Otlp:Endpoint";
    public const string OtlpProtocolKey = "Telemetry:Otlp:Protocol";

    /// <summary>The standard variable (OpenTelemetry's exporter specification); it wins over <see cref="OtlpEndpointKey"/>.</summary>
    public const string StandardOtlpEndpointKey = "OTEL_EXPORTER_OTLP_ENDPOINT";

    public const string MetricsPath = "/metrics";

    public static WebApplicationBuilder AddTelemetry(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        var configuration = builder.Configuration;
        services.AddMetrics();
        services.AddSingleton<AuthServerMetrics>();
        services.AddSingleton<DatabaseOutages>();
        services.AddExceptionHandler<DatabaseOutageHandler>();
        services.AddHealthChecks().AddCheck<DatabaseReadyCheck>("database", tags: [HealthEndpoints.ReadyTag]);
        services.AddSingleton<IStartupFilter, CorrelationId.StartupFilter>();
        StructuredLogs.Configure(builder.Logging, configuration);

        var prometheus = configuration.GetValue<bool>(PrometheusEnabledKey);
        var otlp = OtlpEndpoint(configuration);
        if (!prometheus && otlp is null) return builder;

        var telemetry = services.AddOpenTelemetry().ConfigureResource(resource => resource.AddService("AuthServer"));
        telemetry.WithMetrics(metrics =>
        {
            // ASP.NET Core's own meters (requests, Kestrel, rate limiting, Identity), HttpClient's, the runtime's, and
            // Npgsql's when the PostgreSQL provider is in use (a meter nobody creates costs nothing).
            metrics.AddMeter(AuthServerMetrics.MeterName, "Npgsql")
                .AddAspNetCoreInstrumentation()
                .AddHttpClientInstrumentation()
                .AddRuntimeInstrumentation();
            if (prometheus) metrics.AddPrometheusExporter();
        });
        if (otlp is null) return builder;

        // Spans only go somewhere over OTLP; Prometheus carries metrics only, so without OTLP nothing listens to them.
        telemetry.WithTracing(tracing => tracing.AddSource(AuthServerTraces.Name, "Npgsql")
            .AddAspNetCoreInstrumentation()
            .AddHttpClientInstrumentation());
        if (configuration[StandardOtlpEndpointKey] is { Length: > 0 })
            telemetry.UseOtlpExporter();
        else
            telemetry.UseOtlpExporter(
                string.Equals(configuration[OtlpProtocolKey], "http/protobuf", StringComparison.OrdinalIgnoreCase)
                    ? OtlpExportProtocol.HttpProtobuf
                    : OtlpExportProtocol.Grpc,
                otlp);
        return builder;
    }

    private static Uri? OtlpEndpoint(IConfiguration configuration)
    {
        var text = configuration[StandardOtlpEndpointKey] is { Length: > 0 } standard ? standard : configuration[OtlpEndpointKey];
        if (string.IsNullOrWhiteSpace(text)) return null;
        return Uri.TryCreate(text, UriKind.Absolute, out var endpoint) && endpoint.Scheme is "http" or "https"
            ? endpoint
            : throw new InvalidOperationException($"The OTLP endpoint '{text}' is not an absolute http(s) URL.");
    }

    /// <summary>
    /// <c>/metrics</c> in Prometheus's text format, only when <c>Telemetry:Prometheus:Enabled</c> is true; otherwise the
    /// path is not mapped and answers 404. <c>Telemetry:Prometheus:Hosts</c> (e.g. <c>*:9464</c>) limits it to the
    /// host names or ports listed, so it can be served on a port the load balancer does not expose.
    /// </summary>
    public static IEndpointRouteBuilder MapMetrics(this IEndpointRouteBuilder app)
    {
        var configuration = app.ServiceProvider.GetRequiredService<IConfiguration>();
        if (!configuration.GetValue<bool>(PrometheusEnabledKey)) return app;
        var endpoint = app.MapPrometheusScrapingEndpoint(MetricsPath);
        if (configuration.GetSection(PrometheusHostsKey).Get<string[]>() is { Length: > 0 } hosts) endpoint.RequireHost(hosts);
        return app;
    }
}

/// <summary>
/// <c>Logging:Format=json</c>: one JSON object per line on standard output, with the scopes (the request's
/// correlation id, trace and span ids) and UTC timestamps, for a log shipper to index. Secrets stay out whatever the
/// format (docs/operations.md#logs).
/// </summary>
public static class StructuredLogs
{
    public const string FormatKey = "Logging:Format";

    public static void Configure(ILoggingBuilder logging, IConfiguration configuration)
    {
        if (!string.Equals(configuration[FormatKey], "json", StringComparison.OrdinalIgnoreCase)) return;
        logging.AddJsonConsole(options =>
        {
            options.IncludeScopes = true;
            options.UseUtcTimestamp = true;
            options.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ";
            options.JsonWriterOptions = new System.Text.Json.JsonWriterOptions { Indented = false };
        });
        logging.Services.Configure<ConsoleLoggerOptions>(options => options.FormatterName = ConsoleFormatterNames.Json);
    }
}
