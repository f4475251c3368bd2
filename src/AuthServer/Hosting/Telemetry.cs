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

    /// <summary>
    /// Categories that log secrets below a level, and the lowest level they may log at whatever the configuration says.
    /// OpenIddict 7.8's dispatchers log every request and response at Information with <c>device_code</c>,
    /// <c>code_verifier</c> and the antiforgery token unredacted, and at Trace every token they create or validate
    /// (LogSecretsTests finds them); nothing else does at any level.
    /// </summary>
    public static readonly IReadOnlyDictionary<string, LogLevel> Floors = new Dictionary<string, LogLevel>(StringComparer.Ordinal)
    {
        ["OpenIddict.Server.OpenIddictServerDispatcher"] = LogLevel.Warning,
        ["OpenIddict.Validation.OpenIddictValidationDispatcher"] = LogLevel.Warning,
    };

    public static void Configure(ILoggingBuilder logging, IConfiguration configuration)
    {
        logging.Services.PostConfigure<LoggerFilterOptions>(EnforceFloors);
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

    /// <summary>
    /// Runs after every other filter setting (appsettings, environment, code), so no configuration lowers a floor:
    /// rules for a floored category, or a more specific one, are raised to it, and each provider that has rules of
    /// its own (<c>Logging:Console:LogLevel</c>…) gets a rule for the category at the level it would have chosen, or
    /// the floor if that is lower, since a provider with rules of its own reads only those. A rule added last wins a tie.
    /// </summary>
    private static void EnforceFloors(LoggerFilterOptions options)
    {
        for (var i = 0; i < options.Rules.Count; i++)
        {
            var rule = options.Rules[i];
            foreach (var (category, floor) in Floors)
                if (rule.CategoryName?.StartsWith(category, StringComparison.OrdinalIgnoreCase) == true && (rule.LogLevel ?? LogLevel.Trace) < floor)
                    options.Rules[i] = new LoggerFilterRule(rule.ProviderName, rule.CategoryName, floor, rule.Filter);
        }
        var providers = options.Rules.Select(rule => rule.ProviderName).Append(null).Distinct(StringComparer.OrdinalIgnoreCase).ToList();
        foreach (var provider in providers)
            foreach (var (category, floor) in Floors)
            {
                var chosen = LevelFor(options, provider, category);
                options.Rules.Add(new LoggerFilterRule(provider, category, chosen > floor ? chosen : floor, filter: null));
            }
    }

    /// <summary>
    /// The level the logging rules choose for a provider and category, as Microsoft.Extensions.Logging chooses it: of
    /// the rules that apply, the provider's own before general ones, then the longest category, then the last.
    /// </summary>
    private static LogLevel LevelFor(LoggerFilterOptions options, string? provider, string category)
    {
        LoggerFilterRule? chosen = null;
        foreach (var rule in options.Rules)
        {
            if (rule.ProviderName is not null && !string.Equals(rule.ProviderName, provider, StringComparison.OrdinalIgnoreCase)) continue;
            if (rule.CategoryName is not null && !category.StartsWith(rule.CategoryName, StringComparison.OrdinalIgnoreCase)) continue;
            if (chosen is not null)
            {
                if (chosen.ProviderName is not null && rule.ProviderName is null) continue;
                var moreSpecificProvider = chosen.ProviderName is null && rule.ProviderName is not null;
                if (!moreSpecificProvider && chosen.CategoryName is not null
                    && (rule.CategoryName is null || chosen.CategoryName.Length > rule.CategoryName.Length)) continue;
            }
            chosen = rule;
        }
        return chosen?.LogLevel ?? options.MinLevel;
    }
}
