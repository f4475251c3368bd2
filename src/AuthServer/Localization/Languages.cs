using System.Globalization;
using Microsoft.AspNetCore.Localization;
using Microsoft.Extensions.Localization;
using Microsoft.Net.Http.Headers;

namespace AuthServer.Localization;

/// <summary>
/// The languages people read AuthServer in: English and Simplified Chinese. The choice is the culture cookie the
/// header's switch sets (<see cref="CookieRequestCultureProvider"/>), else the browser's <c>Accept-Language</c>
/// (RFC 9110 §12.5.4), else English. The phone app (wwwroot/phone) follows the same cookie, then the same header.
/// Protocol answers (RFC 6749 §5.2 <c>error_description</c>) stay English: they are for developers, not people.
/// </summary>
public static class Languages
{
    public const string English = "en";
    public const string Chinese = "zh-CN";

    /// <summary>The culture cookie's name, read by the phone app's script as well (so it is not HttpOnly).</summary>
    public static readonly string CookieName = CookieRequestCultureProvider.DefaultCookieName;

    public static readonly IReadOnlyList<string> Supported = [English, Chinese];

    public static IServiceCollection AddAuthServerLocalization(this IServiceCollection services)
    {
        services.AddLocalization();
        services.Configure<RequestLocalizationOptions>(options =>
        {
            var cultures = Supported.Select(CultureInfo.GetCultureInfo).ToList();
            options.DefaultRequestCulture = new RequestCulture(English);
            options.SupportedCultures = cultures;
            options.SupportedUICultures = cultures;
            // No query-string provider: a link must not switch someone's language behind their back.
            options.RequestCultureProviders = [new CookieRequestCultureProvider(), new AcceptLanguageProvider()];
        });
        return services;
    }

    /// <summary>Validation messages (the attributes' <c>ErrorMessage</c>, in English) are looked up in the same resource.</summary>
    public static void UseSharedResource(Microsoft.AspNetCore.Mvc.DataAnnotations.MvcDataAnnotationsLocalizationOptions options) =>
        options.DataAnnotationLocalizerProvider = (_, factory) => factory.Create(typeof(SharedResource));

    /// <summary>
    /// Sets the request's culture for everything people read. Machine-facing paths (the protocol endpoints, the
    /// metadata, health checks) skip it: their answers are English by design and they are the hot paths. So does the
    /// phone API, but for the scan: its problem details are English by design (the app puts them in the user's
    /// words), and only the scan's answer carries text for people (the requester and the scopes, in the phone's
    /// language). The approval is one of every login's four requests.
    /// </summary>
    public static WebApplication UseAuthServerLocalization(this WebApplication app)
    {
        app.UseWhen(context => IsForPeople(context.Request.Path), branch => branch.UseRequestLocalization());
        return app;
    }

    private static readonly PathString ScanPath = Phone.PhoneApi.Prefix + Phone.PhoneApi.ScansPath;

    private static bool IsForPeople(PathString path) =>
        !Hosting.OpenIddictSetup.IsProtocolPath(path)
        && (!path.StartsWithSegments(Phone.PhoneApi.Prefix) || path.Equals(ScanPath, StringComparison.OrdinalIgnoreCase));

    /// <summary>The culture cookie's value and options for <paramref name="culture"/>, which must be supported.</summary>
    public static void Remember(HttpResponse response, string culture)
    {
        response.Cookies.Append(CookieName, CookieRequestCultureProvider.MakeCookieValue(new RequestCulture(culture)),
            new CookieOptions
            {
                Path = "/",
                MaxAge = TimeSpan.FromDays(365),
                IsEssential = true,
                SameSite = Microsoft.AspNetCore.Http.SameSiteMode.Lax,
                Secure = response.HttpContext.Request.IsHttps,
                // The phone app's script reads it to follow the same choice; it carries no secret.
                HttpOnly = false,
            });
    }

    /// <summary>
    /// <c>Accept-Language</c> in the browser's order of preference (RFC 9110 §12.5.4), with every Simplified Chinese
    /// tag (zh, zh-CN, zh-SG, zh-Hans…) read as zh-CN and every English one as en. The stock provider matches tags
    /// exactly, and with invariant globalization it cannot walk from zh-Hans-CN to a parent culture.
    /// </summary>
    private sealed class AcceptLanguageProvider : RequestCultureProvider
    {
        public override Task<ProviderCultureResult?> DetermineProviderCultureResult(HttpContext httpContext)
        {
            var header = httpContext.Request.Headers.AcceptLanguage;
            if (header.Count == 0 || !StringWithQualityHeaderValue.TryParseList(header, out var languages))
                return NullProviderCultureResult;
            foreach (var language in languages.Where(l => l.Quality is not 0).OrderByDescending(l => l.Quality ?? 1))
            {
                if (Match(language.Value.Value) is { } culture)
                    return Task.FromResult<ProviderCultureResult?>(new ProviderCultureResult(culture));
            }
            return NullProviderCultureResult;
        }

        private static string? Match(string? tag)
        {
            if (tag is null) return null;
            if (tag.Equals("en", StringComparison.OrdinalIgnoreCase) || tag.StartsWith("en-", StringComparison.OrdinalIgnoreCase))
                return English;
            if (!(tag.Equals("zh", StringComparison.OrdinalIgnoreCase) || tag.StartsWith("zh-", StringComparison.OrdinalIgnoreCase)))
                return null;
            // Traditional Chinese readers (zh-TW, zh-HK, zh-MO, zh-Hant) are not given Simplified characters unasked.
            string[] traditional = ["zh-tw", "zh-hk", "zh-mo", "zh-hant"];
            return traditional.Any(t => tag.StartsWith(t, StringComparison.OrdinalIgnoreCase)) ? null : Chinese;
        }
    }

    /// <summary>The localizer for code that is not a page (error pages written by middleware, page models).</summary>
    public static IStringLocalizer For(HttpContext context) =>
        context.RequestServices.GetRequiredService<IStringLocalizer<SharedResource>>();
}
