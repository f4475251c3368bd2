namespace AuthServer.Phone;

/// <summary>
/// A short "browser on operating system" phrase ("Chrome on Linux") from a waiting screen's User-Agent header, for
/// the question the phone asks first ("Sign in on Chrome on Linux?"). It is only a hint: the header is whatever the
/// requester sent (RFC 9110 §10.1.5), so the raw value is shown too, and an agent we do not recognise gives null
/// rather than a guess. The order of the checks matters because browsers claim each other's tokens: Edge and Opera say
/// "Chrome", Chrome says "Safari", and every browser says "Mozilla".
/// </summary>
public static class UserAgentSummary
{
    private const int MaxLength = 1024;

    private static readonly (string Token, string Name)[] Browsers =
    [
        ("Edg/", "Edge"), ("EdgA/", "Edge"), ("EdgiOS/", "Edge"),
        ("OPR/", "Opera"), ("OPiOS/", "Opera"),
        ("SamsungBrowser/", "Samsung Internet"),
        ("YaBrowser/", "Yandex Browser"),
        ("Vivaldi/", "Vivaldi"),
        ("Firefox/", "Firefox"), ("FxiOS/", "Firefox"),
        ("CriOS/", "Chrome"),
        ("Chromium/", "Chromium"),
        ("Chrome/", "Chrome"),
        ("Safari/", "Safari"),
        ("curl/", "curl"),
        ("Wget/", "Wget"),
    ];

    /// <summary>How a browser and its system are joined, in English; a page passes its translation.</summary>
    public const string OnPattern = "{0} on {1}";

    /// <summary>The summary, or null when the agent is missing or names neither a known browser nor a known system.</summary>
    public static string? Describe(string? userAgent, string onPattern = OnPattern)
    {
        if (string.IsNullOrWhiteSpace(userAgent) || userAgent.Length > MaxLength) return null;
        var browser = BrowserOf(userAgent);
        var system = SystemOf(userAgent);
        return (browser, system) switch
        {
            ({ } b, { } s) => string.Format(System.Globalization.CultureInfo.InvariantCulture, onPattern, b, s),
            ({ } b, null) => b,
            (null, { } s) => s,
            _ => null,
        };
    }

    private static string? BrowserOf(string agent)
    {
        foreach (var (token, name) in Browsers)
        {
            if (!agent.Contains(token, StringComparison.Ordinal)) continue;
            // Safari's token alone is also in every WebKit-based in-app browser; only a Version/ token marks Safari itself.
            if (name == "Safari" && !agent.Contains("Version/", StringComparison.Ordinal)) return null;
            return name;
        }
        return null;
    }

    private static string? SystemOf(string agent)
    {
        // Android and ChromeOS agents also say "Linux", and iPadOS and iOS say "like Mac OS X": the specific ones first.
        if (agent.Contains("Android", StringComparison.Ordinal)) return "Android";
        if (agent.Contains("CrOS", StringComparison.Ordinal)) return "ChromeOS";
        if (agent.Contains("iPhone", StringComparison.Ordinal) || agent.Contains("iPod", StringComparison.Ordinal)) return "iPhone";
        if (agent.Contains("iPad", StringComparison.Ordinal)) return "iPad";
        if (agent.Contains("Windows", StringComparison.Ordinal)) return "Windows";
        if (agent.Contains("Macintosh", StringComparison.Ordinal) || agent.Contains("Mac OS X", StringComparison.Ordinal)) return "macOS";
        if (agent.Contains("Linux", StringComparison.Ordinal) || agent.Contains("X11", StringComparison.Ordinal)) return "Linux";
        return null;
    }
}
