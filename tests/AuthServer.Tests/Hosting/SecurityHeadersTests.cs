using System.Net;
using AuthServer.Hosting;
using AuthServer.Tests.Infrastructure;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;

namespace AuthServer.Tests.Hosting;

/// <summary>
/// Every answer carries the full content security policy and the other security headers, pages, static files,
/// protocol answers and error answers alike; HSTS and Secure cookies hold outside Development.
/// </summary>
public sealed class SecurityHeadersTests(AuthServerFactory factory) : IClassFixture<AuthServerFactory>
{
    public static readonly TheoryData<string> Paths =
    [
        "/", "/device", "/device?user_code=BCDF-GHJK", "/Identity/Account/Login", "/account/devices", "/consent",
        "/authorize/error", "/Error", "/phone/", "/admin", "/connect/endsession", "/connect/token", "/connect/userinfo",
        "/.well-known/openid-configuration", "/health/live", "/css/site.css", "/no/such/page",
    ];

    [Theory]
    [MemberData(nameof(Paths))]
    public async Task Every_answer_carries_the_security_headers(string path)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Accept.ParseAdd("text/html");

        var response = await factory.CreateBrowser().SendAsync(request);

        ((int)response.StatusCode).ShouldBeLessThan(500, path);
        ShouldCarryTheHeaders(response, path);
    }

    [Fact]
    public async Task An_answer_the_exception_handler_writes_keeps_the_headers()
    {
        // A field name that does not parse fails the page's form binding: the exception handler clears the answer and
        // writes its 400 page (MalformedRequestTests); the headers are set again when that answer starts.
        var browser = factory.CreateBrowser();
        var token = Browser.AntiforgeryToken(await browser.GetStringAsync("/Identity/Account/Login"));
        using var request = new HttpRequestMessage(HttpMethod.Post, "/Identity/Account/Login")
        {
            Content = new StringContent($"a[=1&__RequestVerificationToken={Uri.EscapeDataString(token)}",
                System.Text.Encoding.UTF8, "application/x-www-form-urlencoded"),
        };
        request.Headers.Accept.ParseAdd("text/html");

        var response = await browser.SendAsync(request);

        response.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        (await response.Content.ReadAsStringAsync()).ShouldContain("That request could not be read");
        ShouldCarryTheHeaders(response, "the 400 page");
    }

    [Fact]
    public async Task Form_action_admits_this_origin_and_the_registered_redirect_origins_only()
    {
        var response = await factory.CreateBrowser().GetAsync("/Identity/Account/Login");

        var formAction = Directive(response, "form-action");
        formAction.ShouldContain("'self'");
        // The test web app's redirect and post-logout URIs, and the phone app's loopback redirect on any port.
        formAction.ShouldContain(AuthServerFactory.WebAppOrigin);
        formAction.ShouldContain("http://127.0.0.1:*");
        formAction.ShouldNotContain("*.");
        formAction.Split(' ').ShouldNotContain("*");
        formAction.Split(' ').ShouldNotContain("https:");
    }

    [Theory]
    [InlineData("https://webapp.example/callback", "https://webapp.example")]
    [InlineData("https://webapp.example:8443/callback?x=1", "https://webapp.example:8443")]
    [InlineData("http://127.0.0.1/callback", "http://127.0.0.1:*")]
    [InlineData("http://[::1]:5000/callback", "http://[::1]:*")]
    [InlineData("http://localhost:5000/callback", "http://localhost:5000")]
    [InlineData("com.example.app:/oauth2redirect", "com.example.app:")]
    [InlineData("https://bücher.example/cb", "https://xn--bcher-kva.example")]
    [InlineData("not a uri", null)]
    public void A_redirect_uri_becomes_the_narrowest_source_that_admits_it(string uri, string? source) =>
        ContentSecurityPolicy.SourceOf(uri).ShouldBe(source);

    private static void ShouldCarryTheHeaders(HttpResponseMessage response, string what)
    {
        var policy = response.Headers.GetValues("Content-Security-Policy").ShouldHaveSingleItem(what);
        foreach (var directive in new[] { "default-src 'self'", "object-src 'none'", "base-uri 'none'", "frame-ancestors 'none'" })
            policy.ShouldContain(directive, customMessage: what);
        Directive(response, "form-action").ShouldStartWith("'self'", customMessage: what);
        policy.ShouldNotContain("unsafe-inline", customMessage: what);
        policy.ShouldNotContain("unsafe-eval", customMessage: what);
        policy.ShouldNotContain("script-src", customMessage: what);   // scripts fall back to default-src 'self'
        response.Headers.GetValues("X-Content-Type-Options").ShouldHaveSingleItem(what).ShouldBe("nosniff");
        response.Headers.GetValues("Referrer-Policy").ShouldHaveSingleItem(what).ShouldBe("no-referrer");
        response.Headers.GetValues("X-Frame-Options").ShouldHaveSingleItem(what).ShouldBe("DENY");
        // Development: no HSTS, which would pin localhost to https for a year.
        response.Headers.Contains("Strict-Transport-Security").ShouldBeFalse(what);
    }

    private static string Directive(HttpResponseMessage response, string name) =>
        response.Headers.GetValues("Content-Security-Policy").Single().Split(';', StringSplitOptions.TrimEntries)
            .Single(d => d.StartsWith(name + " ", StringComparison.Ordinal))[(name.Length + 1)..];
}

/// <summary>The same server in Production: HSTS over https, and every cookie Secure even on a plain http request.</summary>
public sealed class ProductionSecurityHeadersTests(ProductionSecurityHeadersTests.ProductionFactory factory)
    : IClassFixture<ProductionSecurityHeadersTests.ProductionFactory>
{
    public sealed class ProductionFactory : AuthServerFactory
    {
        public const string RootEmail = "root@example.com";
        public const string RootPassword = "Production-Admin-1";

        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            base.ConfigureWebHost(builder);
            builder.UseEnvironment("Production");
            builder.UseSetting("AuthServer:Issuer", "https://login.example.com");
            builder.UseSetting("Admin:Email", RootEmail);
            builder.UseSetting("Admin:Password", RootPassword);
        }
    }

    private HttpClient Browser(string origin) => factory.CreateClient(new WebApplicationFactoryClientOptions
    {
        BaseAddress = new Uri(origin), AllowAutoRedirect = false, HandleCookies = true,
    });

    [Fact]
    public async Task Https_answers_carry_HSTS_for_a_year()
    {
        var response = await Browser("https://login.example.com").GetAsync("/Identity/Account/Login");

        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        response.Headers.GetValues("Strict-Transport-Security").ShouldHaveSingleItem().ShouldBe("max-age=31536000");
    }

    [Fact]
    public async Task Plain_http_answers_carry_no_HSTS_which_browsers_would_ignore_there()
    {
        // RFC 6797 §7.2: the header is only meaningful over a secure transport.
        var response = await Browser("http://login.example.com").GetAsync("/Identity/Account/Login");

        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        response.Headers.Contains("Strict-Transport-Security").ShouldBeFalse();
    }

    [Fact]
    public async Task The_antiforgery_cookie_is_secure_even_on_plain_http()
    {
        var response = await Browser("http://login.example.com").GetAsync("/Identity/Account/Login");

        var cookie = response.Headers.GetValues("Set-Cookie").Single(c => c.StartsWith(".AspNetCore.Antiforgery.", StringComparison.Ordinal));
        cookie.ShouldContain("secure", Case.Insensitive);
        cookie.ShouldContain("httponly", Case.Insensitive);
    }

    [Fact]
    public async Task The_session_and_culture_cookies_are_secure()
    {
        var browser = Browser("https://login.example.com");
        var page = await browser.GetStringAsync("/Identity/Account/Login");
        var signedIn = await browser.PostAsync("/Identity/Account/Login", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["Input.Email"] = ProductionFactory.RootEmail,
            ["Input.Password"] = ProductionFactory.RootPassword,
            ["Input.RememberMe"] = "false",
            ["__RequestVerificationToken"] = Infrastructure.Browser.AntiforgeryToken(page),
        }));
        var home = await browser.GetStringAsync("/");
        var switched = await browser.PostAsync("/language", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["culture"] = "zh-CN",
            ["returnUrl"] = "/",
            ["__RequestVerificationToken"] = Infrastructure.Browser.AntiforgeryToken(home),
        }));

        signedIn.StatusCode.ShouldBe(HttpStatusCode.Redirect);
        signedIn.Headers.GetValues("Set-Cookie").Single(c => c.StartsWith("authserver.session=", StringComparison.Ordinal))
            .ShouldContain("secure", Case.Insensitive);
        switched.StatusCode.ShouldBe(HttpStatusCode.Redirect);
        switched.Headers.GetValues("Set-Cookie").Single(c => c.StartsWith(".AspNetCore.Culture=", StringComparison.Ordinal))
            .ShouldContain("secure", Case.Insensitive);
    }
}
