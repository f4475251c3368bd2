using System.Text.Encodings.Web;

namespace AuthServer.Hosting;

/// <summary>
/// A friendly error page written without the Razor pipeline, for answers given where no page runs: a request the
/// server could not read, or a protocol request OpenIddict refused before any of our pages saw it. Never a stack trace.
/// </summary>
public static class ErrorPage
{
    public static async Task WriteAsync(HttpContext context, int status, string title, string message, string? note = null)
    {
        var response = context.Response;
        response.StatusCode = status;
        response.ContentType = "text/html; charset=utf-8";
        response.Headers.CacheControl = "no-store";
        var html = HtmlEncoder.Default;
        await response.WriteAsync($$"""
            <!DOCTYPE html>
            <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <title>{{html.Encode(title)}} · AuthServer</title>
                <link rel="stylesheet" href="/css/site.css" />
            </head>
            <body>
            <header><a class="brand" href="/">AuthServer</a></header>
            <main>
                <h1>{{html.Encode(title)}}</h1>
                <p class="message bad" data-testid="result">{{html.Encode(message)}}</p>
                {{(note is null ? "" : $"<p class=\"note\">{html.Encode(note)}</p>")}}
            </main>
            </body>
            </html>
            """, context.RequestAborted);
    }

    /// <summary>Whether the caller is a browser that wants a page rather than JSON.</summary>
    public static bool IsWanted(HttpRequest request) =>
        request.Headers.Accept.ToString().Contains("text/html", StringComparison.OrdinalIgnoreCase);
}
