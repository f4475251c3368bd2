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

    /// <summary>
    /// The pages' versioned links (<c>asp-append-version</c>) watch wwwroot through each server's file provider, one
    /// inotify instance per server; with the suite's servers alive at once (and other test runs on the machine) the
    /// per-user limit ran out and pages answered 500. Polling watchers use none; tests never edit those files either.
    /// </summary>
    [ModuleInitializer]
    internal static void PollStaticFilesInsteadOfInotify() =>
        Environment.SetEnvironmentVariable("DOTNET_USE_POLLING_FILE_WATCHER", "true");
}
