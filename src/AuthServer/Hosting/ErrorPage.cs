using System.Globalization;
using System.Text.Encodings.Web;
using AuthServer.Localization;
using Microsoft.AspNetCore.Diagnostics;

namespace AuthServer.Hosting;

/// <summary>
/// A friendly error page written without the Razor pipeline, for answers given where no page runs: a request the
/// server could not read, a protocol request OpenIddict refused before any of our pages saw it, or a bare status code
/// (404, 405…). Never a stack trace. Its words are translated like the pages'; a description that came from the
/// protocol (RFC 6749 §5.2) has no translation and stays as it is.
/// </summary>
public static class ErrorPage
{
    // Chinese text stays readable in the page source rather than becoming character references.
    private static readonly HtmlEncoder Encoder = HtmlEncoder.Create(System.Text.Unicode.UnicodeRanges.All);

    public static async Task WriteAsync(HttpContext context, int status, string title, string message, string? note = null)
    {
        var text = Languages.For(context);
        var response = context.Response;
        response.StatusCode = status;
        response.ContentType = "text/html; charset=utf-8";
        response.Headers.CacheControl = "no-store";
        var html = Encoder;
        string Say(string english) => html.Encode(text[english]);
        await response.WriteAsync($$"""
            <!DOCTYPE html>
            <html lang="{{html.Encode(CultureInfo.CurrentUICulture.Name is { Length: > 0 } name ? name : Languages.English)}}">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <meta name="color-scheme" content="light dark" />
                <title>{{Say(title)}} · AuthServer</title>
                <link rel="stylesheet" href="/css/site.css" />
            </head>
            <body>
            <header><a class="brand" href="/">AuthServer</a></header>
            <main>
                <h1>{{Say(title)}}</h1>
                <p class="message bad" data-testid="result">{{Say(message)}}</p>
                {{(note is null ? "" : $"<p class=\"note\">{Say(note)}</p>")}}
                <p><a href="/">{{Say("Go to the home page")}}</a></p>
            </main>
            </body>
            </html>
            """, context.RequestAborted);
    }

    /// <summary>Whether the caller is a browser that wants a page rather than JSON.</summary>
    public static bool IsWanted(HttpRequest request) =>
        request.Headers.Accept.ToString().Contains("text/html", StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// The body of a bare status code (one no endpoint wrote a body for), negotiated: under <c>/connect</c> (but the
    /// end-session page) and <c>/.well-known</c> an RFC 6749 §5.2 error, which is what an OAuth client parses there
    /// (a wrong method or an unknown path below an endpoint); a browser asking for HTML on a path people visit gets
    /// the friendly page; an API client, or anyone else, gets problem details (RFC 9457). Protocol endpoints write their
    /// own RFC 6749 §5.2 bodies, so this never replaces one.
    /// </summary>
    public static async Task WriteStatusCodePageAsync(StatusCodeContext status)
    {
        var context = status.HttpContext;
        var code = context.Response.StatusCode;
        var door = DoorOf(context.Request);
        if (door == Door.OAuth)
        {
            await new Protocol.OAuthError(OAuthCodeFor(code), code switch
            {
                StatusCodes.Status404NotFound => "There is no protocol endpoint at this address.",
                StatusCodes.Status405MethodNotAllowed => $"This endpoint does not accept {context.Request.Method} requests.",
                _ => $"The request was refused ({code}).",
            }, code).ExecuteAsync(context);
            return;
        }
        if (door == Door.Page)
        {
            var (title, message) = Describe(code);
            await WriteAsync(context, code, title, message);
            return;
        }
        await TypedResults.Problem(statusCode: code).ExecuteAsync(context);
    }

    /// <summary>The three formats an error can be answered in, by who reads it.</summary>
    public enum Door { OAuth, Page, Problem }

    /// <summary>
    /// The one rule for which format an error answers <paramref name="request"/> in, whoever writes it (a bare status,
    /// an exception, a database outage, a request over its size limits): RFC 6749 §5.2 JSON under <c>/connect</c> and
    /// <c>/.well-known</c>, where OAuth clients read it; a page for a browser that asks for HTML on a path people
    /// visit, at the authorization endpoint (RFC 6749 §3.1: a browser is sent there), and at RP-initiated logout, which
    /// only browsers are sent to; problem details (RFC 9457) for everyone else, the JSON APIs whatever they accept.
    /// A HEAD request gets no page: it would have no body to show.
    /// </summary>
    public static Door DoorOf(HttpRequest request)
    {
        var browserAtAuthorize = IsBrowserAtAuthorize(request);
        if (IsOAuthPath(request.Path) && !browserAtAuthorize) return Door.OAuth;
        if (HttpMethods.IsHead(request.Method)) return Door.Problem;
        if ((IsWanted(request) && !IsForMachines(request.Path)) || browserAtAuthorize
            || request.Path.StartsWithSegments(OpenIddictSetup.EndSessionPath))
            return Door.Page;
        return Door.Problem;
    }

    private static (string Title, string Message) Describe(int status) => status switch
    {
        StatusCodes.Status404NotFound => ("Page not found", "There is nothing at this address. Check the link, or start again from the home page."),
        StatusCodes.Status403Forbidden => ("Not allowed", "Your account may not open this page."),
        StatusCodes.Status401Unauthorized => ("Please sign in", "This page needs you to be signed in."),
        StatusCodes.Status405MethodNotAllowed => ("That did not work", "This page cannot be used that way. Go back and try again."),
        StatusCodes.Status429TooManyRequests => ("Too many attempts", "Wait a minute, then try again."),
        >= 500 => ("Something went wrong", "We could not complete that. Nothing was changed; please try again in a moment."),
        _ => ("That did not work", "The request could not be completed. Go back and try again."),
    };

    /// <summary>
    /// The paths that answer applications, not people: the phone API, the protocol, metadata, health, metrics and the
    /// QR image (which an <c>img</c> element or a waiting screen fetches).
    /// </summary>
    public static bool IsForMachines(PathString path) =>
        OpenIddictSetup.IsProtocolPath(path) || path.StartsWithSegments("/api") || path.StartsWithSegments("/swagger")
        || path.StartsWithSegments(WebSignIn.SessionEndpoint.Path) || path.StartsWithSegments(Protocol.QrCodeEndpoint.Path)
        || path.StartsWithSegments("/metrics");

    /// <summary>The authorization endpoint is where a browser is sent (RFC 6749 §3.1): a browser gets pages there.</summary>
    public static bool IsBrowserAtAuthorize(HttpRequest request) =>
        request.Path.StartsWithSegments(OpenIddictSetup.AuthorizePath) && IsWanted(request);

    /// <summary>Where OAuth clients read RFC 6749 §5.2 errors: the protocol endpoints (RP-initiated logout is a page) and the metadata.</summary>
    private static bool IsOAuthPath(PathString path) =>
        path.StartsWithSegments("/.well-known")
        || (path.StartsWithSegments("/connect") && !path.StartsWithSegments(OpenIddictSetup.EndSessionPath));

    /// <summary>RFC 6749 §5.2's codes for a refusal no endpoint explained; §4.1.2.1 gives the two for the server's own trouble.</summary>
    private static string OAuthCodeFor(int status) => status switch
    {
        StatusCodes.Status401Unauthorized => "invalid_client",
        StatusCodes.Status403Forbidden => "access_denied",
        StatusCodes.Status429TooManyRequests or StatusCodes.Status503ServiceUnavailable => "temporarily_unavailable",
        >= 500 => "server_error",
        _ => "invalid_request",
    };
}
