using Microsoft.Net.Http.Headers;

namespace AuthServer.Phone;

/// <summary>
/// The phone web app: static files under <c>wwwroot/phone</c> (an installable PWA), signed in as the first-party public
/// client <see cref="ClientId"/> with the authorization code flow, PKCE (RFC 7636) and DPoP (RFC 9449), and then a
/// user of the phone API like any phone app. This class only serves its page for the app's two addresses; the files
/// themselves are static assets.
/// </summary>
public static class PhoneWebApp
{
    public const string ClientId = "phone-web";
    public const string Path = "/phone";
    public const string CallbackPath = "/phone/callback";
    private const string PageFile = "phone/index.html";

    /// <summary>
    /// The app's redirect URI on <paramref name="issuer"/>. The app is served from the issuer's own origin, so this is
    /// the only redirect it needs, and an operator who moves the issuer need not register a new one (RFC 6749 §3.1.2
    /// still holds: it is matched exactly).
    /// </summary>
    public static string CallbackUri(string issuer) => issuer.TrimEnd('/') + CallbackPath;

    public static IEndpointRouteBuilder MapPhoneWebApp(this IEndpointRouteBuilder app)
    {
        // The service worker's scope is /phone/ (its own folder), so the app lives there; /phone alone is sent to it.
        // Routing treats both as one route, so one endpoint tells them apart.
        app.MapGet(Path, (HttpContext context, IWebHostEnvironment environment) =>
        {
            if (context.Request.Path.Value?.EndsWith('/') == true) return ServePageAsync(context, environment);
            context.Response.Redirect(Path + "/");
            return Task.CompletedTask;
        }).ExcludeFromDescription();
        app.MapGet(CallbackPath, ServePageAsync).ExcludeFromDescription();
        return app;
    }

    private static async Task ServePageAsync(HttpContext context, IWebHostEnvironment environment)
    {
        var page = environment.WebRootFileProvider.GetFileInfo(PageFile);
        if (!page.Exists)
        {
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            return;
        }
        context.Response.ContentType = "text/html; charset=utf-8";
        // The callback's query carries the authorization code: it must not be kept by any cache (RFC 9700 §4.2.4).
        context.Response.Headers[HeaderNames.CacheControl] = "no-store";
        await context.Response.SendFileAsync(page, context.RequestAborted);
    }
}
