using System.Runtime.CompilerServices;

namespace AuthServer.Tests.Infrastructure;

internal static class TestHostDefaults
{
    /// <summary>
    /// Each test server would otherwise watch its appsettings files for changes; hundreds of servers in one test run
    /// exhaust the machine's inotify instances. Tests never edit those files, so nothing is lost.
    /// </summary>
    [ModuleInitializer]
    internal static void DoNotWatchConfigurationFiles() =>
        Environment.SetEnvironmentVariable("DOTNET_hostBuilder__reloadConfigOnChange", "false");
}
