using AuthServer.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace AuthServer.Tests.Telemetry;

/// <summary>The categories that would log secrets stay at Warning whatever the configuration asks for.</summary>
public sealed class LogFloorTests
{
    [Fact]
    public void OpenIddicts_dispatchers_stay_at_warning_when_the_configuration_asks_for_trace_generally_or_per_provider()
    {
        using var factory = AuthServerFactory.With(new()
        {
            ["Logging:LogLevel:Default"] = "Trace",
            ["Logging:LogLevel:OpenIddict"] = "Trace",
            ["Logging:LogLevel:OpenIddict.Server.OpenIddictServerDispatcher"] = "Trace",
            ["Logging:Console:LogLevel:Default"] = "Trace",
        });
        var loggers = factory.Services.GetRequiredService<ILoggerFactory>();

        var dispatcher = loggers.CreateLogger("OpenIddict.Server.OpenIddictServerDispatcher");
        dispatcher.IsEnabled(LogLevel.Information).ShouldBeFalse();
        dispatcher.IsEnabled(LogLevel.Warning).ShouldBeTrue();
        loggers.CreateLogger("OpenIddict.Validation.OpenIddictValidationDispatcher").IsEnabled(LogLevel.Information).ShouldBeFalse();
        // Everything else keeps the level it was given.
        loggers.CreateLogger("OpenIddict.Core.OpenIddictTokenManager").IsEnabled(LogLevel.Trace).ShouldBeTrue();
        loggers.CreateLogger("AuthServer.DeviceFlow.DeviceFlowService").IsEnabled(LogLevel.Trace).ShouldBeTrue();
    }

    [Fact]
    public void A_configuration_quieter_than_the_floor_stays_quieter()
    {
        using var factory = AuthServerFactory.With(new() { ["Logging:LogLevel:OpenIddict"] = "Error" });
        var loggers = factory.Services.GetRequiredService<ILoggerFactory>();

        var dispatcher = loggers.CreateLogger("OpenIddict.Server.OpenIddictServerDispatcher");
        dispatcher.IsEnabled(LogLevel.Warning).ShouldBeFalse();
        dispatcher.IsEnabled(LogLevel.Error).ShouldBeTrue();
    }
}
