using System.Text.RegularExpressions;
using AuthServer.Hosting;
using AuthServer.Tests.Infrastructure;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.AspNetCore.Mvc.RazorPages.Infrastructure;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace AuthServer.Tests.Hardening;

/// <summary>How an answer must be written, by who the path answers (see <see cref="FuzzCheck"/>).</summary>
public enum Door
{
    /// <summary>RFC 6749 §5.2 JSON: <c>/connect/*</c> but the end-session page, and the metadata.</summary>
    Protocol,

    /// <summary>RFC 9457 problem details, whatever the <c>Accept</c> header: the phone API, the QR sign-in, the QR image, health, OpenAPI, metrics.</summary>
    JsonApi,

    /// <summary>A friendly HTML page for a browser: every other path.</summary>
    Page,
}

/// <summary>One method on one route, the form or JSON fields it reads, and the door it answers through.</summary>
public sealed record FuzzTarget(string Method, string Route, string? Handler, Door Door)
{
    public override string ToString() => Handler is null ? $"{Method} {Route}" : $"{Method} {Route}?handler={Handler}";
}

/// <summary>
/// Every way into the server, from the app's own <see cref="EndpointDataSource"/> (so an endpoint added later is
/// fuzzed without asking): each Razor page's GET and handler methods, each other endpoint's HTTP methods; plus the
/// endpoints OpenIddict answers inside its middleware, which no route describes.
/// </summary>
public static partial class FuzzTargets
{
    /// <summary>OpenIddict's own endpoints: it answers them before routing, so they are not in the data source.</summary>
    private static readonly string[] OpenIddictPaths =
    [
        OpenIddictSetup.AuthorizePath, OpenIddictSetup.DevicePath, OpenIddictSetup.TokenPath, OpenIddictSetup.RevocationPath,
        OpenIddictSetup.IntrospectionPath, OpenIddictSetup.UserinfoPath, OpenIddictSetup.EndSessionPath,
        OpenIddictSetup.OAuthMetadataPath, OpenIddictSetup.OpenIdMetadataPath, OpenIddictSetup.JwksPath,
    ];

    public static Door DoorOf(string path)
    {
        var at = new PathString(path);
        if (at.StartsWithSegments("/api") || at.StartsWithSegments(AuthServer.WebSignIn.SessionEndpoint.Path)
            || at.StartsWithSegments("/health") || at.StartsWithSegments("/swagger") || at.StartsWithSegments("/metrics")
            || at.StartsWithSegments(AuthServer.Protocol.QrCodeEndpoint.Path))
            return Door.JsonApi;
        if (at.StartsWithSegments("/.well-known")
            || (at.StartsWithSegments("/connect") && !at.StartsWithSegments(OpenIddictSetup.EndSessionPath)))
            return Door.Protocol;
        return Door.Page;
    }

    public static async Task<List<FuzzTarget>> AllAsync(AuthServerFactory factory)
    {
        factory.CreateClient().Dispose(); // the endpoints exist once the server has started
        var loader = factory.Services.GetRequiredService<PageLoader>();
        var targets = new List<FuzzTarget>();
        var staticAssets = 0;
        foreach (var endpoint in factory.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>())
        {
            var route = "/" + endpoint.RoutePattern.RawText!.TrimStart('/');
            // Thousands of static files answer alike; a few of them stand for all.
            if (endpoint.Metadata.Any(m => m.GetType().Namespace?.StartsWith("Microsoft.AspNetCore.StaticAssets", StringComparison.Ordinal) == true)
                && ++staticAssets > 3)
                continue;
            if (endpoint.Metadata.GetMetadata<PageActionDescriptor>() is { } page)
            {
                var compiled = await loader.LoadAsync(page, endpoint.Metadata);
                targets.Add(new FuzzTarget("GET", route, null, DoorOf(route)));
                foreach (var handler in compiled.HandlerMethods)
                {
                    if (handler.HttpMethod == "Get" && handler.Name is null) continue;
                    targets.Add(new FuzzTarget(handler.HttpMethod.ToUpperInvariant(), route, handler.Name, DoorOf(route)));
                }
            }
            else
            {
                var methods = endpoint.Metadata.GetMetadata<HttpMethodMetadata>()?.HttpMethods ?? ["GET", "POST"];
                targets.AddRange(methods.Select(m => new FuzzTarget(m, route, null, DoorOf(route))));
            }
        }
        foreach (var path in OpenIddictPaths)
            targets.AddRange(new[] { "GET", "POST" }.Select(m => new FuzzTarget(m, path, null, DoorOf(path))));
        return [.. targets.DistinctBy(t => t.ToString()).OrderBy(t => t.ToString(), StringComparer.Ordinal)];
    }

    /// <summary>The names of a page's form fields, as a browser would post them back.</summary>
    public static IEnumerable<string> FieldNames(string html) =>
        FieldName().Matches(html).Select(m => System.Net.WebUtility.HtmlDecode(m.Groups[1].Value)).Distinct(StringComparer.Ordinal);

    /// <summary>A route's parameters, e.g. <c>{id}</c> or <c>{**path}</c>.</summary>
    public static readonly Regex Parameter = RouteParameter();

    [GeneratedRegex("<(?:input|select|textarea|button)[^>]*\\sname=\"([^\"]+)\"")]
    private static partial Regex FieldName();

    [GeneratedRegex(@"\{[^}]+\}")]
    private static partial Regex RouteParameter();
}
