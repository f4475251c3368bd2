using System.Net;
using System.Text.Json;
using AuthServer.Data;
using AuthServer.DeviceFlow;
using AuthServer.Tests.Infrastructure;
using AuthServer.Tests.Phone;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace AuthServer.Tests.Hosting;

/// <summary>
/// X-Forwarded-For/-Host/-Proto change who the server thinks is asking and which origin it builds its URLs from, so
/// they count only from a configured proxy. From anyone else they are ignored: the requester IP shown on the phone
/// (RFC 8628 §5.4), the guessing limit's per-address budget (§5.1) and the issuer (RFC 8414 §2) stay as they were.
/// </summary>
public sealed class ForwardedHeadersTests
{
    private const string Proxy = "10.0.0.1";
    private const string Stranger = "198.51.100.20";
    private const string SpoofedIp = "203.0.113.66";
    private const string SpoofedHost = "login.attacker.example";

    private static HttpClient Forwarding(AuthServerFactory factory, string peer, string forwardedFor = SpoofedIp)
    {
        var http = Screen.Client(factory, remoteIp: peer);
        AddForwardedHeaders(http, forwardedFor);
        return http;
    }

    private static void AddForwardedHeaders(HttpClient http, string forwardedFor)
    {
        http.DefaultRequestHeaders.Add("X-Forwarded-For", forwardedFor);
        http.DefaultRequestHeaders.Add("X-Forwarded-Host", SpoofedHost);
        http.DefaultRequestHeaders.Add("X-Forwarded-Proto", "https");
    }

    [Fact]
    public async Task From_an_unlisted_peer_the_headers_change_neither_the_requester_nor_the_urls()
    {
        using var factory = new AuthServerFactory();
        var device = Forwarding(factory, Stranger);

        var screen = await Screen.StartAsync(factory, http: device);
        screen.VerificationUriComplete.ShouldStartWith("http://localhost/device?user_code=");
        (await IssuerAsync(device)).ShouldBe("http://localhost/");

        var scan = await (await PhoneApp.SignInAsync(factory)).ScanOkAsync(screen.UserCode);
        scan.Answer.Json.GetProperty("requester").GetProperty("ip").GetString().ShouldBe(Stranger);
        (await StoredRequesterIpAsync(factory, screen.UserCode)).ShouldBe(Stranger);
    }

    [Fact]
    public async Task From_a_listed_proxy_the_headers_are_applied()
    {
        using var factory = AuthServerFactory.With(new() { ["ForwardedHeaders:KnownProxies:0"] = Proxy });
        var device = Forwarding(factory, Proxy);

        var screen = await Screen.StartAsync(factory, http: device);
        screen.VerificationUriComplete.ShouldStartWith($"https://{SpoofedHost}/device?user_code=");
        (await IssuerAsync(device)).ShouldBe($"https://{SpoofedHost}/");

        var scan = await (await PhoneApp.SignInAsync(factory)).ScanOkAsync(screen.UserCode);
        scan.Answer.Json.GetProperty("requester").GetProperty("ip").GetString().ShouldBe(SpoofedIp);
        (await StoredRequesterIpAsync(factory, screen.UserCode)).ShouldBe(SpoofedIp);
    }

    [Fact]
    public async Task From_an_unlisted_peer_a_new_forwarded_address_does_not_buy_a_new_guessing_budget()
    {
        using var factory = AuthServerFactory.With(new() { ["RateLimits:UserCodeLookupsPerNetwork:PermitLimit"] = "2" });
        var first = await SignedInAsync(factory, Stranger, forwardedFor: "203.0.113.1");
        (await first.GetAsync("/device?user_code=BCDF-GHJK")).StatusCode.ShouldBe(HttpStatusCode.OK);
        (await first.GetAsync("/device?user_code=BCDF-GHJL")).StatusCode.ShouldBe(HttpStatusCode.OK);

        // Another account, so only the address budget can stop it, and another claimed address: still the same peer.
        var second = await SignedInAsync(factory, Stranger, forwardedFor: "203.0.113.2");
        var limited = await second.GetAsync("/device?user_code=BCDF-GHJM");

        limited.StatusCode.ShouldBe(HttpStatusCode.TooManyRequests);
        Browser.Result(await limited.Content.ReadAsStringAsync()).ShouldContain("Too many codes were tried");
    }

    [Fact]
    public async Task Behind_a_listed_proxy_each_forwarded_network_has_its_own_guessing_budget()
    {
        using var factory = AuthServerFactory.With(new()
        {
            ["RateLimits:UserCodeLookupsPerNetwork:PermitLimit"] = "2",
            ["ForwardedHeaders:KnownProxies:0"] = Proxy,
        });
        var first = await SignedInAsync(factory, Proxy, forwardedFor: "203.0.113.1");
        (await first.GetAsync("/device?user_code=BCDF-GHJK")).StatusCode.ShouldBe(HttpStatusCode.OK);
        (await first.GetAsync("/device?user_code=BCDF-GHJL")).StatusCode.ShouldBe(HttpStatusCode.OK);
        (await first.GetAsync("/device?user_code=BCDF-GHJM")).StatusCode.ShouldBe(HttpStatusCode.TooManyRequests);

        var second = await SignedInAsync(factory, Proxy, forwardedFor: "198.51.100.2");
        var page = await second.GetAsync("/device?user_code=BCDF-GHJN");

        page.StatusCode.ShouldBe(HttpStatusCode.OK);
        Browser.Result(await page.Content.ReadAsStringAsync()).ShouldNotContain("Too many codes were tried");
    }

    [Theory]
    [InlineData("10.1.2.3", SpoofedIp)]
    [InlineData("192.0.2.9", "192.0.2.9")]
    public async Task A_known_network_trusts_the_peers_inside_it_only(string peer, string shown)
    {
        using var factory = AuthServerFactory.With(new() { ["ForwardedHeaders:KnownNetworks:0"] = "10.0.0.0/8" });
        var screen = await Screen.StartAsync(factory, http: Forwarding(factory, peer));

        var scan = await (await PhoneApp.SignInAsync(factory)).ScanOkAsync(screen.UserCode);

        scan.Answer.Json.GetProperty("requester").GetProperty("ip").GetString().ShouldBe(shown);
    }

    [Theory]
    [InlineData("ForwardedHeaders:KnownProxies:0", "proxy.internal", "not an IP address")]
    [InlineData("ForwardedHeaders:KnownNetworks:0", "10.0.0.0", "not a network in CIDR notation")]
    [InlineData("ForwardedHeaders:KnownNetworks:0", "10.0.0.1/8", "not a network in CIDR notation")]
    public void A_malformed_entry_stops_start_up_with_its_key_and_value(string key, string value, string reason)
    {
        using var factory = AuthServerFactory.With(new() { [key] = value });

        var failure = Should.Throw<Exception>(() => factory.CreateClient());

        failure.ToString().ShouldContain($"{key[..key.LastIndexOf(':')]}: '{value}' is {reason}");
    }

    private static async Task<HttpClient> SignedInAsync(AuthServerFactory factory, string peer, string forwardedFor)
    {
        var browser = factory.CreateBrowser(remoteIp: peer);
        // The address only: a forwarded https would make the cookies Secure, which the in-memory http client drops.
        browser.DefaultRequestHeaders.Add("X-Forwarded-For", forwardedFor);
        await browser.SignInAsync(await PhoneApp.NewAccountAsync(factory));
        return browser;
    }

    private static async Task<string?> IssuerAsync(HttpClient http)
    {
        var response = await http.GetAsync("/.well-known/openid-configuration");
        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("issuer").GetString();
    }

    private static async Task<string?> StoredRequesterIpAsync(AuthServerFactory factory, string userCode)
    {
        UserCode.TryNormalize(userCode, out var normalized).ShouldBeTrue();
        await using var scope = factory.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AuthServerDbContext>();
        return await db.DeviceAuthorizations.Where(d => d.UserCode == normalized).Select(d => d.RequesterIp).SingleAsync();
    }
}
