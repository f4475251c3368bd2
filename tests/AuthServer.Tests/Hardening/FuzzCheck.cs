using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace AuthServer.Tests.Hardening;

/// <summary>
/// What every answer must be, however bad the request: never a 5xx, never a stack trace, and an error in its door's
/// format. Protocol endpoints: RFC 6749 §5.2 JSON, an object whose <c>error</c> is a code in the characters §5.2
/// allows. JSON APIs: RFC 9457 problem details whatever the caller accepts. Pages: an HTML page for a browser (one that
/// accepts <c>text/html</c>), and HTML or problem details for anyone else. A redirect names where to.
/// </summary>
public static class FuzzCheck
{
    /// <summary>Why the answer is wrong, or null when it is right.</summary>
    public static string? Problem(FuzzRequest request, int status, HttpResponseHeaders headers, MediaTypeHeaderValue? contentType, byte[] body)
    {
        if (status >= 500) return $"{status}";
        if (status is >= 300 and < 400)
            return headers.Location is null && status != 304 ? $"{status} without a Location" : null;
        if (status < 400 || request.Method == "HEAD") return null;

        var text = Encoding.UTF8.GetString(body);
        if (text.Contains("   at ", StringComparison.Ordinal) && text.Contains("Exception", StringComparison.Ordinal))
            return $"{status} with a stack trace";
        var media = contentType?.MediaType;
        var door = DoorOf(request);
        return door switch
        {
            Door.Protocol => OAuthError(media, text) is { } wrong ? $"{status} protocol error {wrong}" : null,
            Door.JsonApi => ProblemDetails(status, media, text) is { } wrong ? $"{status} API error {wrong}" : null,
            _ when request.WantsHtml => Html(media, text) is { } wrong ? $"{status} page for a browser {wrong}" : null,
            // A client that is not a browser may also be answered in the protocol's own format at the end-session
            // endpoint, which OpenIddict validates like any other.
            _ => Html(media, text) is null || ProblemDetails(status, media, text) is null
                || (request.Url.StartsWith("/connect/", StringComparison.OrdinalIgnoreCase) && OAuthError(media, text) is null)
                ? null
                : $"{status} page error neither HTML nor problem details ({Describe(media, text)})",
        };
    }

    /// <summary>
    /// The authorization endpoint is where a browser is sent: for a browser its errors are a page (our error page, or a
    /// redirect to it or back to the client), like any page; for anyone else RFC 6749 JSON.
    /// </summary>
    /// <remarks>
    /// The door is the one of the path the server saw: the client removes dot segments first
    /// (<c>/connect/authorize/%2e%2e</c> is <c>/connect/</c>).
    /// </remarks>
    private static Door DoorOf(FuzzRequest request)
    {
        var path = Uri.UnescapeDataString(new Uri(new Uri("http://localhost"), request.Url).AbsolutePath);
        var door = FuzzTargets.DoorOf(path);
        return door == Door.Protocol && request.WantsHtml
            && new Microsoft.AspNetCore.Http.PathString(path).StartsWithSegments(AuthServer.Hosting.OpenIddictSetup.AuthorizePath)
            ? Door.Page
            : door;
    }

    private static string? OAuthError(string? media, string text)
    {
        if (media != "application/json") return $"is not application/json ({Describe(media, text)})";
        if (Parse(text) is not { ValueKind: JsonValueKind.Object } json) return $"is not a JSON object ({Describe(media, text)})";
        if (!json.TryGetProperty("error", out var error) || error.ValueKind != JsonValueKind.String) return $"has no error code ({Describe(media, text)})";
        // RFC 6749 §5.2: error = 1*( %x20-21 / %x23-5B / %x5D-7E ).
        var code = error.GetString()!;
        if (code.Length == 0 || code.Any(c => c is < ' ' or > '~' or '"' or '\\')) return $"has a malformed error code '{code}'";
        if (json.TryGetProperty("error_description", out var description) && description.ValueKind != JsonValueKind.String)
            return "has an error_description that is not a string";
        return null;
    }

    private static string? ProblemDetails(int status, string? media, string text)
    {
        if (media != "application/problem+json") return $"is not application/problem+json ({Describe(media, text)})";
        if (Parse(text) is not { ValueKind: JsonValueKind.Object } json) return $"is not a JSON object ({Describe(media, text)})";
        if (!json.TryGetProperty("status", out var given) || given.ValueKind != JsonValueKind.Number || given.GetInt32() != status)
            return $"has no status {status} ({Describe(media, text)})";
        if (!json.TryGetProperty("title", out var title) || title.ValueKind != JsonValueKind.String || string.IsNullOrWhiteSpace(title.GetString()))
            return $"has no title ({Describe(media, text)})";
        return null;
    }

    private static string? Html(string? media, string text) =>
        media == "text/html" && text.Contains("<html", StringComparison.OrdinalIgnoreCase) ? null : $"is not an HTML page ({Describe(media, text)})";

    private static JsonElement? Parse(string text)
    {
        try
        {
            return JsonDocument.Parse(text).RootElement.Clone();
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static string Describe(string? media, string text) =>
        $"{media ?? "no content type"}: {(text.Length > 160 ? text[..160] + "…" : text.Length == 0 ? "empty body" : text)}";
}
