using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using AuthServer.BrowserTests.Infrastructure;
using AuthServer.Tests.Infrastructure;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;
using Answer = AuthServer.Tests.Infrastructure.Protocol.Answer;

namespace AuthServer.BrowserTests;

/// <summary>
/// The "Sign in with your phone" page at <c>/</c> in real Chromium: the QR code it draws is decoded with zbarimg, the
/// phone is played through the phone API with a real phone token, and the page must follow every state live, without
/// reloading. Time never passes by itself: the page runs on Playwright's paused clock and the server on its
/// FakeTimeProvider, and <see cref="QrPageTest.AdvanceAsync"/> moves both by the same amount.
/// </summary>
public sealed class QrSignInPageTests(BrowserFixture browser, LiveServer server)
    : QrPageTest(browser, server), IClassFixture<LiveServer>
{
    [Fact]
    public Task Scanning_the_qr_code_and_approving_on_the_phone_signs_this_browser_in() => InBrowserAsync(async page =>
    {
        var started = await OpenAsync(page);
        var userCode = await UserCodeAsync(page);
        started.Get("user_code").ShouldBe(userCode);

        // What a phone camera pointed at the QR code reads: verification_uri_complete, carrying the code shown as text.
        var scannedUrl = await DecodeQrAsync(page);
        scannedUrl.ShouldBe(started.Get("verification_uri_complete"));
        scannedUrl.ShouldBe(Server.Url($"device?user_code={userCode}"));
        await Expect(page.GetByTestId("status")).ToHaveTextAsync("Scan with your phone");
        await SaveReadmeScreenshotAsync(page);
        await MarkPageAsync(page);

        using var phone = await Phone.SignInAsync(Server);
        var scan = await phone.ScanAsync(scannedUrl);
        await Expect(page.GetByTestId("status")).ToHaveTextAsync("Scanned — confirm on your phone");
        await Expect(page.GetByTestId("number")).ToBeHiddenAsync(); // web has no number matching by default
        await ExpectSamePageAsync(page);

        await phone.ApproveAsync(scan);
        // The approval became this browser's session: the page continued to its return URL, signed in.
        await Expect(page.GetByTestId("signed-in-user")).ToHaveTextAsync("Signed in as Demo User");
        await Expect(page.GetByTestId("account")).ToHaveTextAsync(AuthServerFactory.DemoEmail);
        await Expect(page.GetByTestId("sign-out")).ToBeVisibleAsync();
        page.Url.ShouldBe(Server.Url("/"));

        // The page's own linked device of the demo user, named after this browser, is the "AuthServer" client.
        var devices = await phone.LinkedDevicesAsync();
        var linked = devices.EnumerateArray().SingleOrDefault(d => d.GetProperty("name").GetString() == DeviceNameOf(started));
        linked.ValueKind.ShouldBe(JsonValueKind.Object, $"no device named {DeviceNameOf(started)} among {devices}");
        linked.GetProperty("client").GetProperty("id").GetString().ShouldBe("web");
        linked.GetProperty("name").GetString()!.ShouldContain(" on ");

        // The device code and the tokens never reach the URL, the DOM or storage; the cookies are the session and the
        // binding, both out of the script's reach.
        var html = await page.ContentAsync();
        html.ShouldNotContain(started.Get("device_code"));
        (await page.EvaluateAsync<int>("() => localStorage.length + sessionStorage.length")).ShouldBe(0);
        (await page.EvaluateAsync<string>("() => document.cookie")).ShouldNotContain("authserver.");
        var cookies = await page.Context.CookiesAsync();
        cookies.Single(c => c.Name == "authserver.session").HttpOnly.ShouldBeTrue();
        var binding = cookies.Single(c => c.Name == "authserver.browser");
        binding.HttpOnly.ShouldBeTrue();
        binding.SameSite.ShouldBe(SameSiteAttribute.Strict);
    });

    [Fact]
    public Task Denying_on_the_phone_shows_denied_and_try_again_starts_a_new_code() => InBrowserAsync(async page =>
    {
        await OpenAsync(page);
        var userCode = await UserCodeAsync(page);
        await MarkPageAsync(page);

        using var phone = await Phone.SignInAsync(Server);
        var scan = await phone.ScanAsync(await DecodeQrAsync(page));
        await Expect(page.GetByTestId("status")).ToHaveTextAsync("Scanned — confirm on your phone");

        await phone.DenyAsync(scan);
        await Expect(page.GetByTestId("status")).ToHaveTextAsync("Denied on your phone");
        await Expect(page.GetByTestId("qr")).ToBeHiddenAsync();
        await Expect(page.GetByTestId("signed-in-user")).ToBeHiddenAsync();
        var retry = page.GetByTestId("retry");
        await Expect(retry).ToHaveTextAsync("Try again");
        await ExpectSamePageAsync(page);

        await retry.ClickAsync();
        await ExpectLiveAsync(page, generation: 2);
        (await UserCodeAsync(page)).ShouldNotBe(userCode);
        await Expect(retry).ToBeHiddenAsync();
        await ExpectSamePageAsync(page);
    });

    [Fact]
    public Task Without_the_stream_the_page_polls_the_token_endpoint_and_honours_slow_down() => InBrowserAsync(async page =>
    {
        // The stream is unreachable (a proxy that does not pass it, say): every attempt gets a 503.
        var streamAttempts = 0;
        await page.RouteAsync("**/connect/device/events", route =>
        {
            Interlocked.Increment(ref streamAttempts);
            return route.FulfillAsync(new() { Status = 503, ContentType = "text/plain", Body = "unavailable" });
        });
        // The first poll is told to slow down; the page must then wait interval + 5 s.
        var polls = new List<string>();
        await page.RouteAsync("**/connect/token", async route =>
        {
            int count;
            lock (polls) { polls.Add(route.Request.PostData ?? ""); count = polls.Count; }
            if (count == 1)
                await route.FulfillAsync(new()
                {
                    Status = 400, ContentType = "application/json",
                    Body = """{"error":"slow_down","error_description":"Polling too fast."}""",
                });
            else
                await route.ContinueAsync();
        });

        var started = await OpenAsync(page, waitForStream: false);
        var root = Root(page);
        // Three reconnects with growing waits (at most 1.25, 2.5 and 5 s), each asking from where it left off.
        for (var failures = 1; failures <= 3; failures++)
        {
            await Expect(root).ToHaveAttributeAsync("data-reconnects", failures.ToString());
            await Expect(root).ToHaveAttributeAsync("data-stream", "backoff");
            await AdvanceAsync(page, TimeSpan.FromSeconds(5));
        }
        await Expect(root).ToHaveAttributeAsync("data-stream", "polling");
        streamAttempts.ShouldBe(4);
        await Expect(page.GetByTestId("status")).ToHaveTextAsync("Scan with your phone");

        // First poll after `interval`: told to slow down, so the page adds 5 s to its interval.
        var interval = started.Json.GetProperty("interval").GetInt32();
        var firstPoll = page.WaitForResponseAsync(r => r.Url.EndsWith("/connect/token", StringComparison.Ordinal));
        await AdvanceAsync(page, TimeSpan.FromSeconds(interval));
        (await firstPoll).Status.ShouldBe(400);
        await Expect(root).ToHaveAttributeAsync("data-poll-interval", (interval + 5).ToString());
        Count(polls).ShouldBe(1);

        using var phone = await Phone.SignInAsync(Server);
        var scan = await phone.ScanAsync(await DecodeQrAsync(page));
        await phone.ApproveAsync(scan);

        // interval later the page must not poll yet (slow_down: interval + 5 s); 5 s after that it polls and redeems.
        await AdvanceAsync(page, TimeSpan.FromSeconds(interval));
        await AdvanceAsync(page, TimeSpan.FromSeconds(5));
        await Expect(page.GetByTestId("signed-in-user")).ToHaveTextAsync("Signed in as Demo User");
        Count(polls).ShouldBe(2, "one poll told to slow down, then one poll after interval + 5 s that got the tokens");
        foreach (var poll in polls)
        {
            poll.ShouldContain("grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Adevice_code");
            poll.ShouldContain("client_id=web");
        }
    });

    [Fact]
    public Task The_event_stream_parser_handles_any_chunk_boundaries() => InBrowserAsync(async page =>
    {
        await page.Clock.InstallAsync();
        await page.Clock.PauseAtAsync(DateTime.UtcNow.AddMinutes(1));
        await page.GotoAsync("/");
        // Every way of cutting the stream in two, with CRLF, LF and CR line ends, a comment and a BOM.
        var result = await page.EvaluateAsync<string>("""
            () => {
              const stream = '\uFEFF: ping\r\n\r\nevent: pending\nid: 1\ndata: {"status":"pending"}\n\n'
                + 'event: scanned\rid: 2\rdata: {"status":"scanned",\rdata: "number":42}\r\r'
                + ':ping\n\nevent: approved\r\nid: 3\r\ndata:{"status":"approved"}\r\n\r\n';
              const runs = [];
              for (let cut = 0; cut <= stream.length; cut++) {
                const seen = [];
                const parser = window.qrLogin.createEventStreamParser(e => seen.push(e), c => seen.push({ comment: c }));
                parser.push(stream.slice(0, cut));
                parser.push(stream.slice(cut));
                parser.end();
                runs.push(JSON.stringify(seen));
              }
              return JSON.stringify([...new Set(runs)]);
            }
            """);
        var distinct = JsonDocument.Parse(result).RootElement;
        distinct.GetArrayLength().ShouldBe(1, "the parse must not depend on where the chunks break");
        distinct[0].GetString().ShouldBe(
            """[{"comment":"ping"},{"type":"pending","data":"{\"status\":\"pending\"}","id":"1"},{"type":"scanned","data":"{\"status\":\"scanned\",\n\"number\":42}","id":"2"},{"comment":"ping"},{"type":"approved","data":"{\"status\":\"approved\"}","id":"3"}]""");
    });

    private static int Count(List<string> polls)
    {
        lock (polls) return polls.Count;
    }

    /// <summary>
    /// With <c>AUTHSERVER_README_SCREENSHOT</c> set to a file name, saves the waiting page there (docs/images/qr-page.png
    /// is made this way). A normal run does nothing.
    /// </summary>
    private static async Task SaveReadmeScreenshotAsync(IPage page)
    {
        if (Environment.GetEnvironmentVariable("AUTHSERVER_README_SCREENSHOT") is not { Length: > 0 } file) return;
        await page.ScreenshotAsync(new() { Path = file, FullPage = true });
    }
}

/// <summary>
/// The page's timers against the server's: the <c>web</c> client's codes live 5 s here, so the page replaces them at
/// 4 s (80 %), and the test drives both clocks through rotations and expiry. Number matching is on for this server.
/// </summary>
public sealed partial class QrSignInPageTimingTests(BrowserFixture browser, QrSignInPageTimingTests.ShortCodesServer server)
    : QrPageTest(browser, server.Live), IClassFixture<QrSignInPageTimingTests.ShortCodesServer>
{
    private static readonly TimeSpan Lifetime = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan RotateAfter = TimeSpan.FromSeconds(4);
    private const int MaxRotations = 5;

    public sealed class ShortCodesServer : IDisposable
    {
        public LiveServer Live { get; } = LiveServer.Start(AuthServerFactory.With(new()
        {
            ["Clients:web:DeviceCodeLifetime"] = "00:00:05",
            ["Clients:web:NumberMatching"] = "true",
        }));

        public void Dispose() => Live.Dispose();
    }

    [Fact]
    public Task Codes_are_replaced_before_they_expire_and_after_five_rotations_the_page_asks_for_a_reload() => InBrowserAsync(async page =>
    {
        var starts = new List<string>();
        page.Request += (_, request) =>
        {
            if (request.Method == "POST" && request.Url.EndsWith("/connect/device", StringComparison.Ordinal))
                lock (starts) starts.Add(request.PostData ?? "");
        };
        var started = await OpenAsync(page);
        started.Json.GetProperty("expires_in").GetInt32().ShouldBe((int)Lifetime.TotalSeconds);
        await MarkPageAsync(page);
        using var phone = await Phone.SignInAsync(Server);

        var codes = new List<string> { await UserCodeAsync(page) };
        for (var rotation = 1; rotation <= MaxRotations; rotation++)
        {
            await AdvanceAsync(page, RotateAfter);
            await ExpectLiveAsync(page, generation: rotation + 1);
            var code = await UserCodeAsync(page);
            codes.ShouldNotContain(code);
            if (rotation == 1) (await DecodeQrAsync(page)).ShouldBe(Server.Url($"device?user_code={code}"));

            // The code the page dropped can no longer be claimed: the server superseded it.
            (await phone.TryScanAsync(codes[^1])).StatusCode.ShouldBe(HttpStatusCode.Gone);
            codes.Add(code);
        }
        await ExpectSamePageAsync(page);

        // No sixth rotation: the last code simply runs out.
        await AdvanceAsync(page, Lifetime);
        await Expect(page.GetByTestId("status")).ToHaveTextAsync("This code has expired. Reload to try again.");
        await Expect(page.GetByTestId("retry")).ToHaveTextAsync("Reload");
        await Expect(page.GetByTestId("qr")).ToBeHiddenAsync();
        await Expect(Root(page)).ToHaveAttributeAsync("data-generation", (MaxRotations + 1).ToString());
        (await phone.TryScanAsync(codes[^1])).StatusCode.ShouldBe(HttpStatusCode.Gone);
        await ExpectSamePageAsync(page);

        string[] sent;
        lock (starts) sent = [.. starts];
        sent.Length.ShouldBe(MaxRotations + 1);
        sent[0].ShouldNotContain("superseded_device_code");
        sent.Skip(1).ShouldAllBe(form => form.Contains("superseded_device_code="));

        // Reload starts over with a fresh code.
        await page.GetByTestId("retry").ClickAsync();
        await ExpectLiveAsync(page, generation: 1);
        codes.ShouldNotContain(await UserCodeAsync(page));
    });

    [Fact]
    public Task A_scanned_code_is_not_replaced_and_when_it_expires_the_page_offers_to_try_again() => InBrowserAsync(async page =>
    {
        var starts = 0;
        page.Request += (_, request) =>
        {
            if (request.Method == "POST" && request.Url.EndsWith("/connect/device", StringComparison.Ordinal))
                Interlocked.Increment(ref starts);
        };
        await OpenAsync(page);
        var userCode = await UserCodeAsync(page);
        using var phone = await Phone.SignInAsync(Server);
        await phone.ScanAsync(await DecodeQrAsync(page));
        await Expect(page.GetByTestId("status")).ToContainTextAsync("Scanned — confirm on your phone");

        await AdvanceAsync(page, Lifetime);
        await Expect(page.GetByTestId("status")).ToContainTextAsync("expired before it was confirmed");
        await Expect(page.GetByTestId("retry")).ToHaveTextAsync("Try again");
        await Expect(Root(page)).ToHaveAttributeAsync("data-generation", "1");
        starts.ShouldBe(1, "the user was confirming: the code must not change under them");

        await page.GetByTestId("retry").ClickAsync();
        await ExpectLiveAsync(page, generation: 2);
        (await UserCodeAsync(page)).ShouldNotBe(userCode);
    });

    [Fact]
    public Task With_number_matching_the_page_shows_the_number_to_pick() => InBrowserAsync(async page =>
    {
        await OpenAsync(page);
        using var phone = await Phone.SignInAsync(Server);
        var scan = await phone.ScanAsync(await DecodeQrAsync(page));
        var choices = scan.GetProperty("number_choices").EnumerateArray().Select(n => n.GetInt32()).ToArray();
        choices.Length.ShouldBe(3);

        var number = page.GetByTestId("number");
        await Expect(number).ToHaveTextAsync(NumberToPick());
        var shown = int.Parse(NumberToPick().Match((await number.TextContentAsync())!).Groups[1].Value);
        choices.ShouldContain(shown);
        await Expect(page.GetByTestId("status")).ToContainTextAsync("Scanned — confirm on your phone");

        await phone.ApproveAsync(scan, shown);
        await Expect(page.GetByTestId("signed-in-user")).ToHaveTextAsync("Signed in as Demo User");
        await Expect(number).ToBeHiddenAsync();
    });

    [GeneratedRegex(@"^Pick (\d{2}) on your phone$")]
    private static partial Regex NumberToPick();
}

/// <summary>What the tests of the QR page share: opening it on a paused clock, moving both clocks, the phone.</summary>
public abstract partial class QrPageTest(BrowserFixture browser, LiveServer server) : BrowserTest(browser, server)
{
    protected static ILocator Root(IPage page) => page.Locator("[data-qr-login]");

    /// <summary>
    /// Opens <c>/</c> with the page's clock installed and paused at the server's current time, and waits until the
    /// first code is on screen with its events stream open. Returns the device authorization response the page got.
    /// </summary>
    protected async Task<Answer> OpenAsync(IPage page, bool waitForStream = true, string path = "/")
    {
        var now = Server.Clock.GetUtcNow().UtcDateTime;
        await page.Clock.InstallAsync(new() { TimeDate = now.AddSeconds(-1) });
        await page.Clock.PauseAtAsync(now);
        var started = page.WaitForResponseAsync(r => r.Request.Method == "POST" && r.Url.EndsWith("/connect/device", StringComparison.Ordinal));
        await page.GotoAsync(path);
        var response = await started;
        response.Status.ShouldBe(200);
        var json = JsonDocument.Parse(await response.TextAsync()).RootElement.Clone();
        var answer = new Answer((HttpStatusCode)response.Status, json, new HttpResponseMessage((HttpStatusCode)response.Status));
        if (waitForStream) await ExpectLiveAsync(page, generation: 1);
        else await ExpectQrLoadedAsync(page);
        DeviceNames[answer.Get("device_code")] = response.Request.PostData ?? "";
        return answer;
    }

    private readonly Dictionary<string, string> DeviceNames = [];

    /// <summary>The device_name the page sent when it started <paramref name="started"/>.</summary>
    protected string DeviceNameOf(Answer started) =>
        Microsoft.AspNetCore.WebUtilities.QueryHelpers.ParseQuery(DeviceNames[started.Get("device_code")])["device_name"].ToString();

    /// <summary>The <paramref name="generation"/>-th code of this page load is shown, loaded, and its stream delivers.</summary>
    protected static async Task ExpectLiveAsync(IPage page, int generation)
    {
        var root = Root(page);
        await Expect(root).ToHaveAttributeAsync("data-generation", generation.ToString());
        await Expect(root).ToHaveAttributeAsync("data-stream", "open");
        await Expect(root).ToHaveAttributeAsync("data-state", "pending");
        await Expect(page.GetByTestId("status")).ToHaveTextAsync("Scan with your phone");
        await Expect(page.GetByTestId("user-code")).ToHaveTextAsync(UserCodeFormat());
        await ExpectQrLoadedAsync(page);
    }

    private static async Task ExpectQrLoadedAsync(IPage page)
    {
        await Expect(page.GetByTestId("qr")).ToBeVisibleAsync();
        await page.WaitForFunctionAsync("""
            () => {
              const img = document.querySelector('[data-testid="qr"]');
              const code = document.querySelector('[data-testid="user-code"]').textContent;
              return img.complete && img.naturalWidth > 0 && img.src.includes(encodeURIComponent(code));
            }
            """);
    }

    protected static async Task<string> UserCodeAsync(IPage page) =>
        (await page.GetByTestId("user-code").TextContentAsync())!.Trim();

    /// <summary>Screenshots the QR element as Chromium painted it and decodes it, as the phone's camera would.</summary>
    protected static async Task<string> DecodeQrAsync(IPage page) =>
        await QrDecoder.DecodeAsync(await page.GetByTestId("qr").ScreenshotAsync());

    /// <summary>
    /// Moves time on both sides by <paramref name="by"/>: the server's FakeTimeProvider first (request lifetimes, the
    /// stream's expiry wake-up, the slow_down check), then the page's Playwright clock, which fires the page's due
    /// timers (rotation, expiry, reconnect, polling). In that order the requests those timers send find the server
    /// already at the same instant.
    /// </summary>
    protected async Task AdvanceAsync(IPage page, TimeSpan by)
    {
        Server.Clock.Advance(by);
        await page.Clock.RunForAsync((long)by.TotalMilliseconds);
    }

    /// <summary>A marker in the page's JavaScript: while it is there, the page was never reloaded.</summary>
    protected static Task MarkPageAsync(IPage page) => page.EvaluateAsync("() => { window.__sameQrPage = true; }");

    protected static async Task ExpectSamePageAsync(IPage page) =>
        (await page.EvaluateAsync<bool>("() => window.__sameQrPage === true")).ShouldBeTrue("the page reloaded");

    /// <summary>The demo user's signed-in phone app: its own token from the authorization code flow, then the phone API.</summary>
    protected sealed class Phone : IDisposable
    {
        private const string Scope = "openid profile offline_access phone_app";
        private readonly HttpClient _api;

        private Phone(HttpClient api) => _api = api;

        public static async Task<Phone> SignInAsync(LiveServer server)
        {
            using var browser = new HttpClient(new SocketsHttpHandler { UseCookies = true, CookieContainer = new(), AllowAutoRedirect = false })
            {
                BaseAddress = server.BaseAddress,
            };
            await browser.SignInAsync();
            // The app's loopback redirect (RFC 8252 §7.3: any port); the flow ends where the server sends the browser there.
            const string redirect = "http://127.0.0.1:49170/callback";
            var pkce = CodeFlow.Pkce.New();
            var landed = await FollowUntilRedirectUriAsync(browser,
                CodeFlow.AuthorizeUrl("phone", redirect, pkce, Scope, extra: new() { ["device_name"] = "Test phone" }), redirect);
            var query = CodeFlow.Query(landed);
            query.ShouldContainKey("code", $"no code in {landed}");
            var tokens = await CodeFlow.RedeemAsync(browser, "phone", query["code"], redirect, pkce.Verifier);
            tokens.Status.ShouldBe(HttpStatusCode.OK, tokens.Json.ToString());

            var api = server.CreateDevice();
            api.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", tokens.Get("access_token"));
            return new Phone(api);
        }

        /// <summary>
        /// Like <see cref="CodeFlow.FollowUntilExternalAsync"/>, but on Kestrel the server's own host is 127.0.0.1 too,
        /// so "external" means the app's redirect URI, not "a host other than localhost".
        /// </summary>
        private static async Task<Uri> FollowUntilRedirectUriAsync(HttpClient browser, string url, string redirectUri)
        {
            for (var hop = 0; hop < 10; hop++)
            {
                var response = await browser.GetAsync(url);
                response.StatusCode.ShouldBeOneOf([HttpStatusCode.Redirect, HttpStatusCode.Found, HttpStatusCode.SeeOther],
                    $"expected a redirect from {url}");
                var location = response.Headers.Location!;
                if (location.IsAbsoluteUri && location.AbsoluteUri.StartsWith(redirectUri + "?", StringComparison.Ordinal)) return location;
                url = location.IsAbsoluteUri ? location.PathAndQuery : location.ToString();
            }
            throw new ShouldAssertException("too many redirects before the redirect URI");
        }

        public Task<HttpResponseMessage> TryScanAsync(string code) => _api.PostAsJsonAsync("/api/phone/scans", new { code });

        /// <summary>Scans the code (the whole URL the camera read); returns the scan: scan_id, confirm_ticket, …</summary>
        public async Task<JsonElement> ScanAsync(string code)
        {
            using var response = await TryScanAsync(code);
            var body = await response.Content.ReadAsStringAsync();
            response.StatusCode.ShouldBe(HttpStatusCode.Created, body);
            return JsonDocument.Parse(body).RootElement.Clone();
        }

        public Task ApproveAsync(JsonElement scan, int? number = null) => DecideAsync(scan, "approve", number);

        public Task DenyAsync(JsonElement scan) => DecideAsync(scan, "deny", null);

        private async Task DecideAsync(JsonElement scan, string decision, int? number)
        {
            var scanId = scan.GetProperty("scan_id").GetString();
            using var response = await _api.PostAsJsonAsync($"/api/phone/scans/{scanId}/{decision}",
                new { confirm_ticket = scan.GetProperty("confirm_ticket").GetString(), number });
            response.StatusCode.ShouldBe(HttpStatusCode.NoContent, await response.Content.ReadAsStringAsync());
        }

        public async Task<JsonElement> LinkedDevicesAsync()
        {
            using var response = await _api.GetAsync("/api/phone/devices");
            var body = await response.Content.ReadAsStringAsync();
            response.StatusCode.ShouldBe(HttpStatusCode.OK, body);
            return JsonDocument.Parse(body).RootElement.Clone();
        }

        public void Dispose() => _api.Dispose();
    }

    [GeneratedRegex("^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$")]
    private static partial Regex UserCodeFormat();
}
