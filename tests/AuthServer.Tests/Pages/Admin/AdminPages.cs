using System.Text.RegularExpressions;
using AuthServer.Tests.Infrastructure;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc.ApplicationModels;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.AspNetCore.Mvc.RazorPages.Infrastructure;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace AuthServer.Tests.Pages.Admin;

/// <summary>One way into the admin pages: a method, a URL and, for a page, the handler it runs.</summary>
public sealed record AdminRoute(string Method, string Url, string Page, string? Handler)
{
    public override string ToString() => $"{Method} {Url}";
}

/// <summary>Enumerates every admin URL from the app's own endpoints, so a page added later is tested without asking.</summary>
public static partial class AdminPages
{
    /// <summary>
    /// Every endpoint whose route is under <c>/admin</c>: for each Razor page, a GET of the page and every handler
    /// method it declares (named ones with <c>?handler=</c>); for any other endpoint, each HTTP method it accepts. Route
    /// parameters are filled with <paramref name="parameter"/>.
    /// </summary>
    public static async Task<List<AdminRoute>> RoutesAsync(AuthServerFactory factory, string parameter = "no-such-thing")
    {
        factory.CreateClient().Dispose(); // the endpoints exist once the server has started
        var endpoints = factory.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>();
        var loader = factory.Services.GetRequiredService<PageLoader>();
        var routes = new List<AdminRoute>();
        foreach (var endpoint in endpoints)
        {
            var template = "/" + endpoint.RoutePattern.RawText!.TrimStart('/');
            if (!template.StartsWith("/admin", StringComparison.OrdinalIgnoreCase)) continue;
            var url = RouteParameter().Replace(template, parameter);
            if (endpoint.Metadata.GetMetadata<PageActionDescriptor>() is { } page)
            {
                var compiled = await loader.LoadAsync(page, endpoint.Metadata);
                routes.Add(new AdminRoute("GET", url, page.ViewEnginePath, null));
                foreach (var handler in compiled.HandlerMethods)
                {
                    if (handler.HttpMethod == "Get" && handler.Name is null) continue;
                    var method = handler.HttpMethod.ToUpperInvariant();
                    routes.Add(new AdminRoute(method, handler.Name is null ? url : $"{url}?handler={handler.Name}", page.ViewEnginePath, handler.Name));
                }
            }
            else
            {
                var methods = endpoint.Metadata.GetMetadata<HttpMethodMetadata>()?.HttpMethods ?? ["GET", "POST"];
                routes.AddRange(methods.Select(m => new AdminRoute(m, url, template, null)));
            }
        }
        return [.. routes.DistinctBy(r => r.ToString()).OrderBy(r => r.Url, StringComparer.Ordinal).ThenBy(r => r.Method, StringComparer.Ordinal)];
    }

    public static HttpRequestMessage Request(AdminRoute route, Dictionary<string, string>? form = null)
    {
        var request = new HttpRequestMessage(new HttpMethod(route.Method), route.Url);
        if (route.Method != "GET") request.Content = new FormUrlEncodedContent(form ?? []);
        request.Headers.Accept.ParseAdd("text/html");
        return request;
    }

    /// <summary>A browser signed in as the configured administrator.</summary>
    public static async Task<HttpClient> AdminAsync(AuthServerFactory factory, string? remoteIp = null)
    {
        var browser = factory.CreateBrowser(remoteIp);
        await browser.SignInAsync(AuthServerFactory.AdminEmail, AuthServerFactory.AdminPassword);
        return browser;
    }

    /// <summary>Submits a form of an admin page already fetched, with its antiforgery token; a key may repeat (checkboxes).</summary>
    public static Task<HttpResponseMessage> SubmitAsync(this HttpClient browser, string url, string page, params (string Key, string Value)[] form) =>
        browser.PostAsync(url, new FormUrlEncodedContent(
            form.Append(("__RequestVerificationToken", Browser.AntiforgeryToken(page))).Select(f => new KeyValuePair<string, string>(f.Item1, f.Item2))));

    /// <summary>Opens <paramref name="url"/> and submits one of its forms: the page's round trip as a browser makes it.</summary>
    public static async Task<(HttpResponseMessage Response, string Html)> OpenAndSubmitAsync(
        this HttpClient browser, string url, string action, params (string Key, string Value)[] form)
    {
        var page = await browser.GetStringAsync(url);
        var response = await browser.SubmitAsync(action, page, form);
        return (response, await response.Content.ReadAsStringAsync());
    }

    /// <summary>The text of the element with <paramref name="testId"/>, decoded; empty when there is none.</summary>
    public static string TestId(string html, string testId) =>
        Regex.Match(html, $"data-testid=\"{Regex.Escape(testId)}\"[^>]*>([^<]*)<") is { Success: true } m ? System.Net.WebUtility.HtmlDecode(m.Groups[1].Value.Trim()) : "";

    /// <summary>The inline error shown next to a field, decoded.</summary>
    public static string FieldError(string html, string field) =>
        Regex.Match(html, $"data-valmsg-for=\"{Regex.Escape(field)}\"[^>]*>([^<]*)<") is { Success: true } m ? System.Net.WebUtility.HtmlDecode(m.Groups[1].Value.Trim()) : "";

    /// <summary>A script element that carries code rather than a src: what the CSP forbids.</summary>
    [GeneratedRegex("<script(?![^>]*\\bsrc=)[^>]*>", RegexOptions.IgnoreCase)]
    public static partial Regex InlineScript();

    [GeneratedRegex("\\{[^}]+\\}")]
    private static partial Regex RouteParameter();
}
