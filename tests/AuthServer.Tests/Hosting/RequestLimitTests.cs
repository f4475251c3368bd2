using System.Net;
using System.Net.Sockets;
using System.Text;
using AuthServer.Hosting;
using AuthServer.Tests.Infrastructure;

namespace AuthServer.Tests.Hosting;

/// <summary>
/// Each endpoint class refuses a body or headers over its cap before any work is done, in the caller's format: the
/// RFC 6749 §5.2 <c>invalid_request</c> on protocol endpoints, RFC 9457 problem details on the JSON APIs, a page for
/// browsers. These run on the in-memory test server, which runs the middleware but none of Kestrel's limits.
/// </summary>
public sealed class RequestLimitTests(AuthServerFactory factory) : IClassFixture<AuthServerFactory>
{
    private static readonly RequestLimitOptions Defaults = new();

    private static StringContent Form(int bytes) =>
        new("client_id=demo-tv&grant_type=refresh_token&refresh_token=" + new string('a', bytes), Encoding.ASCII, "application/x-www-form-urlencoded");

    /// <summary>A body sent in chunks, with no <c>Content-Length</c>.</summary>
    private static HttpRequestMessage Chunked(string path, string body, string contentType = "application/x-www-form-urlencoded")
    {
        var content = new StreamContent(new MemoryStream(Encoding.UTF8.GetBytes(body)));
        content.Headers.ContentType = System.Net.Http.Headers.MediaTypeHeaderValue.Parse(contentType);
        var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = content };
        request.Headers.TransferEncodingChunked = true;
        return request;
    }

    private static async Task ShouldBeInvalidRequestAsync(HttpResponseMessage response, HttpStatusCode status, string cap)
    {
        var answer = await Infrastructure.Protocol.ReadAsync(response);
        answer.Status.ShouldBe(status, $"body: {answer.Json}");
        answer.Response.Content.Headers.ContentType!.MediaType.ShouldBe("application/json");
        answer.Error.ShouldBe("invalid_request");
        answer.Get("error_description").ShouldContain($"({cap} bytes)");
        answer.Response.Headers.CacheControl!.NoStore.ShouldBeTrue();
    }

    [Fact]
    public async Task A_2_MB_form_at_the_token_endpoint_is_413_invalid_request()
    {
        var response = await factory.CreateClient().PostAsync("/connect/token", Form(2 * 1024 * 1024));

        await ShouldBeInvalidRequestAsync(response, HttpStatusCode.RequestEntityTooLarge, Defaults.Protocol.MaxBodyBytes.ToString());
        response.Headers.ConnectionClose.ShouldBe(true);
    }

    [Fact]
    public async Task A_form_just_over_the_cap_at_the_device_endpoint_is_413_invalid_request()
    {
        var response = await factory.CreateClient().PostAsync("/connect/device", Form((int)Defaults.Protocol.MaxBodyBytes));

        await ShouldBeInvalidRequestAsync(response, HttpStatusCode.RequestEntityTooLarge, Defaults.Protocol.MaxBodyBytes.ToString());
    }

    [Fact]
    public async Task A_chunked_form_over_the_cap_is_413_invalid_request_too()
    {
        var response = await factory.CreateClient().SendAsync(Chunked("/connect/token", "client_id=demo-tv&x=" + new string('a', 20_000)));

        await ShouldBeInvalidRequestAsync(response, HttpStatusCode.RequestEntityTooLarge, Defaults.Protocol.MaxBodyBytes.ToString());
    }

    [Fact]
    public async Task A_chunked_form_under_the_cap_reaches_the_endpoint_whole()
    {
        var client = factory.CreateClient();
        var deviceCode = (await client.StartAsync()).Get("device_code");

        var response = await client.SendAsync(Chunked("/connect/token",
            $"grant_type={Uri.EscapeDataString(Infrastructure.Protocol.DeviceGrant)}&client_id=demo-tv&device_code={Uri.EscapeDataString(deviceCode)}"));

        var answer = await Infrastructure.Protocol.ReadAsync(response);
        answer.Status.ShouldBe(HttpStatusCode.BadRequest);
        answer.Error.ShouldBe("authorization_pending");
    }

    [Fact]
    public async Task Headers_over_the_protocol_cap_are_431_invalid_request()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/connect/token") { Content = Form(10) };
        request.Headers.Add("X-Padding", new string('p', Defaults.Protocol.MaxHeaderBytes));

        var response = await factory.CreateClient().SendAsync(request);

        await ShouldBeInvalidRequestAsync(response, HttpStatusCode.RequestHeaderFieldsTooLarge, Defaults.Protocol.MaxHeaderBytes.ToString());
    }

    [Fact]
    public async Task The_same_headers_are_within_the_cap_of_a_page()
    {
        // Pages carry the browser's cookies, so they allow more header bytes than the machine endpoints.
        using var request = new HttpRequestMessage(HttpMethod.Get, "/Identity/Account/Login");
        request.Headers.Add("X-Padding", new string('p', Defaults.Protocol.MaxHeaderBytes));

        var response = await factory.CreateBrowser().SendAsync(request);

        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        (await response.Content.ReadAsStringAsync()).ShouldContain("__RequestVerificationToken");
    }

    [Theory]
    [InlineData("application/json")]
    [InlineData("text/html")]
    public async Task A_phone_api_body_over_the_cap_is_413_problem_details_whatever_it_accepts(string accept)
    {
        // Refused before authentication: no token was even looked at.
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/phone/scans")
        {
            Content = new StringContent($$"""{"user_code":"{{new string('B', 70_000)}}"}""", Encoding.UTF8, "application/json"),
        };
        request.Headers.Accept.ParseAdd(accept);

        var answer = await Infrastructure.Protocol.ReadAsync(await factory.CreateClient().SendAsync(request));

        answer.ShouldBeProblem(HttpStatusCode.RequestEntityTooLarge, "The request is too large.");
        answer.Get("detail").ShouldContain($"({Defaults.Api.MaxBodyBytes} bytes)");
    }

    [Fact]
    public async Task A_page_form_over_the_cap_is_a_friendly_413_page()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/Identity/Account/Login")
        {
            Content = new StringContent("Input.Email=" + new string('a', 70_000), Encoding.ASCII, "application/x-www-form-urlencoded"),
        };
        request.Headers.Accept.ParseAdd("text/html");

        var response = await factory.CreateBrowser().SendAsync(request);

        response.StatusCode.ShouldBe(HttpStatusCode.RequestEntityTooLarge);
        response.Content.Headers.ContentType!.MediaType.ShouldBe("text/html");
        Browser.Result(await response.Content.ReadAsStringAsync()).ShouldBe("What your browser sent was larger than this page accepts. Nothing was changed; go back and try again.");
    }

    [Fact]
    public async Task The_admin_pages_take_a_larger_form_than_the_other_pages_up_to_their_own_cap()
    {
        var browser = factory.CreateBrowser();
        HttpRequestMessage Post(int bytes)
        {
            var request = new HttpRequestMessage(HttpMethod.Post, "/admin/clients/new")
            {
                Content = new StringContent("RedirectUris=" + new string('a', bytes), Encoding.ASCII, "application/x-www-form-urlencoded"),
            };
            request.Headers.Accept.ParseAdd("text/html");
            return request;
        }

        var within = await browser.SendAsync(Post(200_000));
        var over = await browser.SendAsync(Post((int)Defaults.Admin.MaxBodyBytes));

        // Within the cap the request goes on to the page, which sends a stranger to sign in.
        within.StatusCode.ShouldBe(HttpStatusCode.Redirect, await within.Content.ReadAsStringAsync());
        within.Headers.Location!.ToString().ShouldContain("/Identity/Account/Login");
        over.StatusCode.ShouldBe(HttpStatusCode.RequestEntityTooLarge);
        Browser.Result(await over.Content.ReadAsStringAsync()).ShouldContain("larger than this page accepts");
    }

    [Fact]
    public async Task A_static_file_takes_no_body()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/css/site.css") { Content = new StringContent("x") };

        var answer = await Infrastructure.Protocol.ReadAsync(await factory.CreateClient().SendAsync(request));

        answer.ShouldBeProblem(HttpStatusCode.RequestEntityTooLarge, "The request is too large.");
        answer.Get("detail").ShouldContain("(0 bytes)");
    }

    [Theory]
    [InlineData("/connect/token", RequestClass.Protocol)]
    [InlineData("/connect/device/events", RequestClass.Protocol)]
    [InlineData("/.well-known/openid-configuration", RequestClass.Protocol)]
    [InlineData("/device/qr", RequestClass.Protocol)]
    [InlineData("/api/phone/scans", RequestClass.Api)]
    [InlineData("/account/qr-signin", RequestClass.Api)]
    [InlineData("/admin/clients/new", RequestClass.Admin)]
    [InlineData("/Identity/Account/Login", RequestClass.Pages)]
    [InlineData("/device", RequestClass.Pages)]
    [InlineData("/phone/callback", RequestClass.Pages)]
    [InlineData("/", RequestClass.Pages)]
    [InlineData("/css/site.css", RequestClass.Static)]
    [InlineData("/phone/app.js", RequestClass.Static)]
    [InlineData("/health/ready", RequestClass.Static)]
    public void Each_path_belongs_to_one_class(string path, RequestClass kind) =>
        RequestLimits.ClassOf(path).ShouldBe(kind);

    [Fact]
    public async Task The_caps_are_configurable()
    {
        using var small = AuthServerFactory.With(new() { ["RequestLimits:Protocol:MaxBodyBytes"] = "200" });
        var client = small.CreateClient();

        var started = await client.StartAsync();
        var response = await client.PostAsync("/connect/token", Form(200));

        started.Status.ShouldBe(HttpStatusCode.OK);
        await ShouldBeInvalidRequestAsync(response, HttpStatusCode.RequestEntityTooLarge, "200");
    }

    [Fact]
    public void A_cap_out_of_range_stops_start_up()
    {
        using var wrong = AuthServerFactory.With(new() { ["RequestLimits:Api:MaxHeaderBytes"] = "10" });

        var failure = Should.Throw<Exception>(() => wrong.CreateClient());

        failure.ToString().ShouldContain("RequestLimits: each MaxBodyBytes");
    }
}

/// <summary>
/// The same limits on the real Kestrel host on a loopback port, where Kestrel's own caps apply too and the body
/// really arrives over a socket: an oversized body is refused before it was even sent.
/// </summary>
public sealed class KestrelRequestLimitTests(KestrelRequestLimitTests.KestrelFactory factory) : IClassFixture<KestrelRequestLimitTests.KestrelFactory>
{
    public sealed class KestrelFactory : AuthServerFactory
    {
        public KestrelFactory() => UseKestrel(0);
    }

    private static readonly TimeSpan AnswerTimeout = TimeSpan.FromSeconds(30);

    private Uri Address => factory.CreateClient().BaseAddress!;

    /// <summary>Sends <paramref name="head"/> (and <paramref name="body"/>) on a raw connection and reads the answer until the server closes it.</summary>
    private async Task<string> ExchangeAsync(string head, string body = "")
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(IPAddress.Loopback, Address.Port);
        var stream = tcp.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes(head + body));
        using var timeout = new CancellationTokenSource(AnswerTimeout);
        var answer = new MemoryStream();
        var buffer = new byte[4096];
        int read;
        try
        {
            while ((read = await stream.ReadAsync(buffer, timeout.Token)) > 0) answer.Write(buffer, 0, read);
        }
        catch (IOException)
        {
            // The server may reset the connection after its answer when unread bytes are left; the answer came first.
        }
        return Encoding.ASCII.GetString(answer.ToArray());
    }

    [Fact]
    public async Task A_declared_2_MB_body_is_refused_before_any_of_it_is_sent()
    {
        var answer = await ExchangeAsync(
            $"POST /connect/token HTTP/1.1\r\nHost: {Address.Authority}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {2 * 1024 * 1024}\r\n\r\n");

        answer.ShouldStartWith("HTTP/1.1 413 ");
        answer.ShouldContain("Connection: close", Case.Insensitive);
        answer.ShouldContain("\"error\":\"invalid_request\"");
        answer.ShouldContain("(16384 bytes)");
    }

    [Fact]
    public async Task A_chunked_body_is_refused_once_it_passes_the_cap_without_waiting_for_its_end()
    {
        // 20 chunks of 1 KiB and no last chunk: the server must answer after the 17th KiB, not wait for the rest.
        static string Chunk(string data) => $"{data.Length:x}\r\n{data}\r\n";
        var chunks = Chunk("client_id=demo-tv&x=") + string.Concat(Enumerable.Repeat(Chunk(new string('a', 1024)), 20));

        var answer = await ExchangeAsync(
            $"POST /connect/device HTTP/1.1\r\nHost: {Address.Authority}\r\nContent-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\n\r\n",
            chunks);

        answer.ShouldStartWith("HTTP/1.1 413 ");
        answer.ShouldContain("\"error\":\"invalid_request\"");
    }

    [Fact]
    public async Task Headers_over_the_largest_cap_are_refused_by_Kestrel_itself_with_431()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/Identity/Account/Login");
        request.Headers.Add("X-Padding", new string('p', new RequestLimitOptions().Pages.MaxHeaderBytes));

        var response = await factory.CreateClient().SendAsync(request);

        response.StatusCode.ShouldBe(HttpStatusCode.RequestHeaderFieldsTooLarge);
        (await response.Content.ReadAsStringAsync()).ShouldBeEmpty();
    }

    [Fact]
    public async Task A_login_request_and_its_poll_work_over_Kestrel_within_the_caps()
    {
        var client = factory.CreateClient();

        var started = await client.StartAsync();
        var poll = await client.PollAsync(started.Get("device_code"));

        started.Status.ShouldBe(HttpStatusCode.OK);
        poll.Status.ShouldBe(HttpStatusCode.BadRequest);
        poll.Error.ShouldBe("authorization_pending");
    }
}
