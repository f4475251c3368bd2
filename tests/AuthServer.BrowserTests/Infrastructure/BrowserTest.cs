using System.Runtime.CompilerServices;
using System.Text;
using Microsoft.Playwright;

namespace AuthServer.BrowserTests.Infrastructure;

/// <summary>
/// A test in real Chromium against a <see cref="LiveServer"/>: a new browser context (fresh cookies) per test. Write
/// the test body inside <see cref="InBrowserAsync"/>: when anything in it fails, a screenshot and the page's HTML are
/// saved under <c>.test-results/browser/</c> at the repository root and the failure message names them.
/// A test class adds <c>IClassFixture&lt;LiveServer&gt;</c> to share one server among its tests, or passes its own.
/// </summary>
[Collection(BrowserCollection.Name)]
public abstract class BrowserTest(BrowserFixture browser, LiveServer server) : IAsyncLifetime
{
    private readonly List<string> _console = [];
    private IBrowserContext? _context;
    private IPage? _page;

    protected LiveServer Server { get; } = server;

    protected IPage Page => _page ?? throw new InvalidOperationException("The page opens in InitializeAsync.");

    public static string ResultsDirectory => Path.Combine(RepositoryRoot.Path, ".test-results", "browser");

    public async Task InitializeAsync()
    {
        _context = await browser.NewContextAsync(Server.BaseAddress);
        _page = await _context.NewPageAsync();
        _page.Console += (_, message) => { lock (_console) _console.Add($"console.{message.Type}: {message.Text}"); };
        _page.PageError += (_, error) => { lock (_console) _console.Add($"page error: {error}"); };
    }

    public async Task DisposeAsync()
    {
        if (_context is not null) await _context.CloseAsync();
    }

    /// <summary>Runs the test's steps; on failure saves what the browser showed and fails with where it is.</summary>
    protected async Task InBrowserAsync(Func<IPage, Task> steps, [CallerMemberName] string test = "")
    {
        try
        {
            await steps(Page);
        }
        catch (Exception failure)
        {
            var saved = await SaveArtifactsAsync($"{GetType().Name}.{test}");
            // The saved files right after the first line, before Playwright's long call log.
            var lines = failure.Message.Split('\n', 2);
            throw new ShouldAssertException($"{lines[0]}\n{saved}{(lines.Length > 1 ? "\n" + lines[1] : "")}", failure);
        }
    }

    /// <summary>Screenshot, HTML and console of the page; returns a description of what was saved where.</summary>
    private async Task<string> SaveArtifactsAsync(string name)
    {
        var report = new StringBuilder($"Browser state at failure (page {Page.Url}):");
        try
        {
            Directory.CreateDirectory(ResultsDirectory);
            var stem = Path.Combine(ResultsDirectory, name);
            await Page.ScreenshotAsync(new PageScreenshotOptions { Path = stem + ".png", FullPage = true, Timeout = 5_000 });
            report.Append($"\n  screenshot: {stem}.png");
            await File.WriteAllTextAsync(stem + ".html", await Page.ContentAsync());
            report.Append($"\n  html: {stem}.html");
            string[] console;
            lock (_console) console = [.. _console];
            if (console.Length > 0)
            {
                await File.WriteAllLinesAsync(stem + ".console.txt", console);
                report.Append($"\n  console: {stem}.console.txt");
            }
        }
        catch (Exception ex) when (ex is PlaywrightException or TimeoutException or IOException or UnauthorizedAccessException)
        {
            report.Append($"\n  (could not save everything: {ex.Message})");
        }
        return report.ToString();
    }
}
