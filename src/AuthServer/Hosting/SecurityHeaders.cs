using System.Net;
using AuthServer.Clients;
using Microsoft.AspNetCore.HttpsPolicy;

namespace AuthServer.Hosting;

/// <summary>
/// What every response tells the browser it may do: the content security policy, no framing, no sniffing, no
/// referrer; HSTS outside Development; and Secure on every cookie the server sets outside Development (the session,
/// antiforgery, culture and browser binding cookies).
/// </summary>
public static class SecurityHeaders
{
    public const string HstsSection = "Hsts";

    public static WebApplicationBuilder AddSecurityHeaders(this WebApplicationBuilder builder)
    {
        var development = builder.Environment.IsDevelopment();
        builder.Services.AddHsts(options => options.MaxAge = TimeSpan.FromDays(365));
        builder.Services.Configure<HstsOptions>(builder.Configuration.GetSection(HstsSection));
        // Outside Development the issuer is https (checked at start-up), so a cookie sent over plain http could only
        // leak it. Development keeps SameAsRequest so http://localhost still signs in.
        builder.Services.Configure<CookiePolicyOptions>(options =>
            options.Secure = development ? CookieSecurePolicy.SameAsRequest : CookieSecurePolicy.Always);
        builder.Services.AddSingleton<ContentSecurityPolicy>();
        return builder;
    }

    /// <summary>Before anything that may write a cookie or an answer.</summary>
    public static WebApplication UseSecurityHeaders(this WebApplication app)
    {
        // RFC 6797 §7.2: the header is only sent over https; UseHsts also leaves out localhost.
        if (!app.Environment.IsDevelopment()) app.UseHsts();
        app.UseCookiePolicy();
        var policy = app.Services.GetRequiredService<ContentSecurityPolicy>();
        // One callback for every response: a request then allocates no closure or state of its own (polls are many).
        Func<object, Task> apply = state =>
        {
            var headers = ((HttpResponse)state).Headers;
            headers.ContentSecurityPolicy = policy.Header;
            headers.XFrameOptions = "DENY";
            headers.XContentTypeOptions = "nosniff";
            // The verification URL carries the user code; keep it out of Referer headers.
            headers["Referrer-Policy"] = "no-referrer";
            return Task.CompletedTask;
        };
        app.Use((context, next) =>
        {
            // Set when the answer starts, so an answer the exception handler rewrites (it clears the headers) keeps them.
            context.Response.OnStarting(apply, context.Response);
            return next(context);
        });
        return app;
    }
}

/// <summary>
/// The policy every response carries. Scripts, styles, fonts and fetches come from this origin only and no inline
/// script runs, so injected markup cannot run code; images may also come from https (the logos clients register);
/// no plugins; no <c>&lt;base&gt;</c> that would re-point relative URLs; and, RFC 9700 §4.16, no page may be framed
/// (clickjacking). Forms post to this origin only; the sources after <c>'self'</c> in <c>form-action</c> are the
/// registered redirect and post-logout redirect URIs, because browsers apply <c>form-action</c> to the redirects that
/// follow a form's submission too: signing in, consenting or signing out ends with a redirect to the client
/// (RFC 6749 §4.1.2, OIDC RP-Initiated Logout §3). A loopback redirect URI allows any port (RFC 8252 §7.3).
/// </summary>
public sealed class ContentSecurityPolicy(ClientStore clients)
{
    private const string Fixed = "default-src 'self'; img-src 'self' https:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'";

    private sealed record Built(int Version, string Header);

    private volatile Built _built = new(-1, Fixed);

    /// <summary>The header's value, rebuilt only when the clients changed.</summary>
    public string Header
    {
        get
        {
            var built = _built;
            var version = clients.Version;
            if (built.Version == version) return built.Header;
            var sources = clients.All.SelectMany(c => c.RedirectUris.Concat(c.PostLogoutRedirectUris))
                .Select(SourceOf).OfType<string>().Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal);
            built = new Built(version, string.Join(' ', [Fixed, .. sources]));
            _built = built;
            return built.Header;
        }
    }

    /// <summary>
    /// The CSP source expression (CSP3 §2.3.1) that admits <paramref name="uri"/>: its origin for http(s), any port
    /// for a loopback IP literal, the scheme alone for a native app's private-use scheme (RFC 8252 §7.1). Null for
    /// what no source can express safely.
    /// </summary>
    public static string? SourceOf(string uri)
    {
        if (!Uri.TryCreate(uri, UriKind.Absolute, out var parsed)) return null;
        if (parsed.Scheme is not ("http" or "https"))
            return parsed.Scheme.All(c => char.IsAsciiLetterOrDigit(c) || c is '+' or '-' or '.') ? parsed.Scheme + ":" : null;
        var host = parsed.IdnHost;
        if (host.Length == 0 || host.Any(c => !(char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or ':' or '[' or ']'))) return null;
        if (parsed.HostNameType == UriHostNameType.IPv6) host = $"[{host.Trim('[', ']')}]";
        var loopback = IPAddress.TryParse(parsed.Host.Trim('[', ']'), out var address) && IPAddress.IsLoopback(address);
        var port = loopback ? ":*" : parsed.IsDefaultPort ? "" : $":{parsed.Port}";
        return $"{parsed.Scheme}://{host}{port}";
    }
}
