using AuthServer.DeviceFlow;

namespace AuthServer.WebSignIn;

/// <summary>
/// Binds the login requests of the server's own sign-in page (client <see cref="ClientId"/>) to the browser that shows
/// their QR code. RFC 8628 §5.4 and §5.6 leave a device code a bearer secret: whoever holds it can redeem it. For a
/// browser that is to get a session, that is not enough, so the device authorization response sets a cookie holding a
/// random secret, and the login request keeps only its SHA-256 hash (<see cref="Data.Entities.BrowserSignIn"/>). The
/// token endpoint redeems such a device code only with that cookie, and the session exchange needs it again: a device
/// code or URL copied to another browser is useless there.
/// </summary>
/// <remarks>
/// The cookie is HttpOnly (the page's script never sees the secret), SameSite=Strict (no other site's request carries
/// it), Secure on https, and lives as long as the browser session. One secret per browser, reused by every QR code it
/// shows, so several tabs and QR rotations all stay bound to it.
/// </remarks>
public static class BrowserBinding
{
    /// <summary>The first-party public client of the page's own script (wwwroot/js/qr-login.js).</summary>
    public const string ClientId = "web";

    /// <summary>On https the <c>__Host-</c> prefix makes the browser refuse it unless Secure, host-only and Path=/.</summary>
    public const string SecureCookieName = "__Host-authserver.browser";
    public const string CookieName = "authserver.browser";

    private static string NameFor(HttpRequest request) => request.IsHttps ? SecureCookieName : CookieName;

    /// <summary>The secret of this browser's binding cookie, or null when it sent none that we could have made.</summary>
    public static string? Read(HttpRequest request) =>
        request.Cookies.TryGetValue(NameFor(request), out var secret) && OpaqueSecret.IsWellFormed(secret) ? secret : null;

    /// <summary>This browser's secret, made and set as the cookie when it has none yet.</summary>
    public static string Ensure(HttpContext context)
    {
        if (Read(context.Request) is { } existing) return existing;
        var secret = OpaqueSecret.New();
        context.Response.Cookies.Append(NameFor(context.Request), secret, new CookieOptions
        {
            HttpOnly = true,
            SameSite = SameSiteMode.Strict,
            Secure = context.Request.IsHttps,
            Path = "/",
            IsEssential = true,
        });
        return secret;
    }

    /// <summary>Whether this request carries the secret whose hash is <paramref name="bindingHash"/>, compared in constant time.</summary>
    public static bool Matches(HttpRequest request, string bindingHash) =>
        Read(request) is { } secret && OpaqueSecret.FixedTimeEquals(OpaqueSecret.Hash(secret), bindingHash);
}
