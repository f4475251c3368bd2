using Microsoft.Playwright;

namespace AuthServer.BrowserTests.Infrastructure;

/// <summary>
/// One headless Chromium for a test collection, driven by Playwright. The browser is Debian's (installed by ./test.sh)
/// or the one <c>CHROMIUM_PATH</c> names; Playwright's own browser download is never used, only the driver that ships
/// inside the Microsoft.Playwright package. Each test gets its own context (cookies, storage) from <see cref="Browser"/>.
/// </summary>
public sealed class BrowserFixture : IAsyncLifetime
{
    public const string ChromiumPathVariable = "CHROMIUM_PATH";
    public const string DefaultChromiumPath = "/usr/bin/chromium";

    /// <summary>The bound for every wait: navigation, actions and <c>Expect</c> assertions.</summary>
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    // Flags that work as root in a container without a display or GPU. Playwright gives each launch a fresh temporary
    // user-data-dir and removes it on close.
    public static readonly string[] Flags =
    [
        "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
    ];

    private IPlaywright? _playwright;
    private IBrowser? _browser;

    public IBrowser Browser => _browser ?? throw new InvalidOperationException("Chromium has not been launched.");

    public static string ChromiumPath =>
        Environment.GetEnvironmentVariable(ChromiumPathVariable) is { Length: > 0 } path ? path : DefaultChromiumPath;

    public async Task InitializeAsync()
    {
        var chromium = ChromiumPath;
        if (!File.Exists(chromium))
            throw new InvalidOperationException(
                $"Chromium was not found at {chromium}. Run ./test.sh, which installs Debian's chromium, or set {ChromiumPathVariable}.");

        Assertions.SetDefaultExpectTimeout((float)Timeout.TotalMilliseconds);
        _playwright = await Playwright.CreateAsync();
        _browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = chromium,
            Headless = true,
            Args = Flags,
            Timeout = 30_000,
        });
    }

    /// <summary>A fresh, isolated browser profile with the bounded timeouts, for one test.</summary>
    public async Task<IBrowserContext> NewContextAsync(Uri baseAddress)
    {
        var context = await Browser.NewContextAsync(new BrowserNewContextOptions
        {
            BaseURL = baseAddress.AbsoluteUri,
            Locale = "en-US",
            TimezoneId = "UTC",
            ViewportSize = new ViewportSize { Width = 1280, Height = 720 },
            DeviceScaleFactor = 1,
        });
        context.SetDefaultTimeout((float)Timeout.TotalMilliseconds);
        context.SetDefaultNavigationTimeout((float)Timeout.TotalMilliseconds);
        return context;
    }

    public async Task DisposeAsync()
    {
        if (_browser is not null) await _browser.CloseAsync();
        _playwright?.Dispose();
    }
}

/// <summary>Browser tests share one Chromium and run one at a time.</summary>
[CollectionDefinition(Name)]
public sealed class BrowserCollection : ICollectionFixture<BrowserFixture>
{
    public const string Name = "Chromium";
}
