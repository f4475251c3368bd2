using System.Diagnostics;
using System.Text.RegularExpressions;

namespace AuthServer.Tests.Data;

/// <summary>
/// Each provider's context runs on the compiled model in Data/CompiledModels, which EF finds by its assembly attribute
/// instead of building the model by the conventions at start-up. A compiled model that lags the model would make the
/// server run on the old one, so this regenerates both with the EF tools and fails on any difference.
/// </summary>
public sealed partial class CompiledModelTests
{
#if DEBUG
    private const string Configuration = "Debug";
#else
    private const string Configuration = "Release";
#endif

    [Theory]
    [InlineData("SqliteAuthServerDbContext", "Sqlite")]
    [InlineData("PostgreSqlAuthServerDbContext", "PostgreSql")]
    public async Task The_compiled_model_is_what_the_EF_tools_generate_from_the_model_now(string context, string folder)
    {
        var root = RepositoryRoot();
        var output = Directory.CreateTempSubdirectory("authserver-compiled-model-").FullName;
        try
        {
            // The build the tests run on (--no-build), so this does not rebuild the server under the running tests.
            var (exitCode, log) = await RunAsync(root, "ef", "dbcontext", "optimize", "--no-build", "--configuration", Configuration,
                "--project", "src/AuthServer", "--context", context, "--output-dir", output,
                "--namespace", $"AuthServer.Data.CompiledModels.{folder}", "--no-color");
            exitCode.ShouldBe(0, log);

            var committed = Path.Combine(root, "src", "AuthServer", "Data", "CompiledModels", folder);
            Names(committed).ShouldBe(Names(output), $"regenerate it (docs/operations.md, \"Schema changes\"):\n{log}");
            foreach (var name in Names(output))
                (await ReadAsync(committed, name)).ShouldBe(await ReadAsync(output, name),
                    $"{name} differs from what the model generates now: regenerate it (docs/operations.md, \"Schema changes\")");
        }
        finally
        {
            Directory.Delete(output, recursive: true);
        }
    }

    /// <summary>A file's text without the model id, a new random GUID at every generation.</summary>
    private static async Task<string> ReadAsync(string folder, string name) =>
        ModelId().Replace(await File.ReadAllTextAsync(Path.Combine(folder, name)), "modelId: new Guid(\"\")");

    [GeneratedRegex("""modelId: new Guid\("[0-9a-f-]{36}"\)""")]
    private static partial Regex ModelId();

    private static string[] Names(string folder) =>
        [.. Directory.GetFiles(folder, "*.cs").Select(Path.GetFileName).Order(StringComparer.Ordinal)!];

    private static async Task<(int ExitCode, string Log)> RunAsync(string directory, params string[] arguments)
    {
        var start = new ProcessStartInfo("dotnet", arguments)
        {
            WorkingDirectory = directory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var deadline = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        try
        {
            await process.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }
        return (process.ExitCode, await output + await error);
    }

    private static string RepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
            if (File.Exists(Path.Combine(directory.FullName, "AuthServer.sln"))) return directory.FullName;
        throw new InvalidOperationException($"No folder above {AppContext.BaseDirectory} holds AuthServer.sln.");
    }
}
