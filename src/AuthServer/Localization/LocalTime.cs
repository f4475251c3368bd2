using System.Globalization;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Html;

namespace AuthServer.Localization;

/// <summary>
/// A time a person reads: a <c>&lt;time&gt;</c> element whose text is the UTC value (what shows with scripts off) and
/// which wwwroot/js/local-time.js rewrites in the reader's own zone and language.
/// </summary>
public static class LocalTime
{
    public static IHtmlContent Of(DateTimeOffset when)
    {
        var utc = when.ToUniversalTime();
        var iso = utc.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
        var text = utc.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture) + " UTC";
        return new HtmlString($"<time data-local-time datetime=\"{HtmlEncoder.Default.Encode(iso)}\">{HtmlEncoder.Default.Encode(text)}</time>");
    }

    public static IHtmlContent Of(DateTime utc) => Of(new DateTimeOffset(DateTime.SpecifyKind(utc, DateTimeKind.Utc)));
}
