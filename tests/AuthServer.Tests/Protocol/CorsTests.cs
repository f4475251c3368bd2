using System.Net;
using AuthServer.Tests.Infrastructure;

namespace AuthServer.Tests.Protocol;

public sealed class CorsTests(AuthServerFactory factory) : IClassFixture<AuthServerFactory>
{
    private const string Registered = AuthServerFactory.WebAppOrigin;
    private const string Unregistered = "https://evil.example";

    private readonly HttpClient _http = factory.CreateBrowser();

    private Task<HttpResponseMessage> PreflightAsync(string path, string origin, string method, string? headers = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Options, path);
        request.Headers.Add("Origin", origin);
        request.Headers.Add("Access-Control-Request-Method", method);
        if (headers is not null) request.Headers.Add("Access-Control-Request-Headers", headers);
        return _http.SendAsync(request);
    }

    private Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, string origin, HttpContent? content = null, string? bearer = null)
    {
        var request = new HttpRequestMessage(method, path) { Content = content };
        request.Headers.Add("Origin", origin);
        if (bearer is not null) request.Headers.Authorization = new("Bearer", bearer);
        return _http.SendAsync(request);
    }

    private static string? AllowOrigin(HttpResponseMessage response) =>
        response.Headers.TryGetValues("Access-Control-Allow-Origin", out var values) ? string.Join(",", values) : null;

    private static bool HasCorsHeaders(HttpResponseMessage response) =>
        response.Headers.Any(h => h.Key.StartsWith("Access-Control-", StringComparison.OrdinalIgnoreCase));

    [Theory]
    [InlineData("/connect/token", "POST")]
    [InlineData("/connect/device", "POST")]
    [InlineData("/connect/device/events", "POST")]
    [InlineData("/connect/userinfo", "GET")]
    [InlineData("/connect/userinfo", "POST")]
    [InlineData("/.well-known/openid-configuration", "GET")]
    [InlineData("/.well-known/oauth-authorization-server", "GET")]
    [InlineData("/.well-known/jwks", "GET")]
    public async Task A_preflight_from_a_registered_origin_is_allowed(string path, string method)
    {
        var response = await PreflightAsync(path, Registered, method);

        response.IsSuccessStatusCode.ShouldBeTrue($"{(int)response.StatusCode} for {path}");
        AllowOrigin(response).ShouldBe(Registered);
        response.Headers.GetValues("Access-Control-Allow-Methods").ShouldContain(v => v.Contains(method));
    }

    [Fact]
    public async Task A_userinfo_preflight_may_ask_to_send_an_authorization_header()
    {
        var response = await PreflightAsync("/connect/userinfo", Registered, "GET", headers: "authorization");

        response.IsSuccessStatusCode.ShouldBeTrue();
        AllowOrigin(response).ShouldBe(Registered);
        response.Headers.GetValues("Access-Control-Allow-Headers").ShouldContain(v => v.Contains("authorization", StringComparison.OrdinalIgnoreCase));
    }

    [Theory]
    [InlineData("/.well-known/openid-configuration")]
    [InlineData("/.well-known/oauth-authorization-server")]
    [InlineData("/.well-known/jwks")]
    public async Task Discovery_and_keys_answer_a_registered_origin_with_its_origin(string path)
    {
        var response = await SendAsync(HttpMethod.Get, path, Registered);

        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        AllowOrigin(response).ShouldBe(Registered);
        (await response.Content.ReadAsStringAsync()).ShouldStartWith("{");
    }

    [Fact]
    public async Task The_token_endpoint_answers_a_registered_origin_even_with_an_error()
    {
        var response = await SendAsync(HttpMethod.Post, "/connect/token", Registered,
            new FormUrlEncodedContent(new Dictionary<string, string> { ["grant_type"] = "authorization_code", ["client_id"] = "phone" }));
        var answer = await Infrastructure.Protocol.ReadAsync(response);

        answer.Status.ShouldBe(HttpStatusCode.BadRequest);
        answer.Error.ShouldBe("invalid_request");
        AllowOrigin(response).ShouldBe(Registered);
    }

    [Fact]
    public async Task The_device_endpoint_answers_a_registered_origin()
    {
        var response = await SendAsync(HttpMethod.Post, "/connect/device", Registered,
            new FormUrlEncodedContent(new Dictionary<string, string> { ["client_id"] = "demo-tv", ["scope"] = "openid" }));
        var answer = await Infrastructure.Protocol.ReadAsync(response);

        answer.Status.ShouldBe(HttpStatusCode.OK);
        answer.Get("user_code").ShouldNotBeNullOrEmpty();
        AllowOrigin(response).ShouldBe(Registered);
    }

    /// <summary>
    /// The push stream is answered before routing and the CORS middleware (<c>UseDeviceEventsStream</c>), so it applies
    /// the endpoint's policy itself: a browser's waiting screen must be able to read both its events and its errors.
    /// </summary>
    [Fact]
    public async Task The_push_stream_lets_a_registered_origin_read_its_events()
    {
        using var response = await OpenStreamAsync(Registered);

        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        response.Content.Headers.ContentType!.MediaType.ShouldBe("text/event-stream");
        AllowOrigin(response).ShouldBe(Registered);
    }

    [Fact]
    public async Task The_push_stream_answers_a_registered_origin_even_with_an_error()
    {
        var request = EventStream.Request("not-a-device-code");
        request.Headers.Add("Origin", Registered);

        var answer = await Infrastructure.Protocol.ReadAsync(await EventStream.SendAsync(_http, request));

        answer.Status.ShouldBe(HttpStatusCode.BadRequest);
        answer.Error.ShouldBe("invalid_grant");
        AllowOrigin(answer.Response).ShouldBe(Registered);
    }

    [Fact]
    public async Task The_push_stream_gives_an_unregistered_origin_no_allow_origin()
    {
        using var response = await OpenStreamAsync(Unregistered);

        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        AllowOrigin(response).ShouldBeNull();
    }

    /// <summary>A new login request's push stream, opened from <paramref name="origin"/>; the body is still streaming.</summary>
    private async Task<HttpResponseMessage> OpenStreamAsync(string origin)
    {
        var started = await _http.PostFormAsync("/connect/device", ("client_id", "demo-tv"), ("scope", "openid"));
        var request = EventStream.Request(started.Get("device_code"));
        request.Headers.Add("Origin", origin);
        return await EventStream.SendAsync(_http, request);
    }

    [Fact]
    public async Task Userinfo_lets_a_registered_origin_read_the_bearer_challenge()
    {
        var response = await SendAsync(HttpMethod.Get, "/connect/userinfo", Registered, bearer: "not-a-token");

        response.StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
        response.Headers.WwwAuthenticate.ToString().ShouldContain("invalid_token");
        AllowOrigin(response).ShouldBe(Registered);
        response.Headers.GetValues("Access-Control-Expose-Headers").ShouldContain(v => v.Contains("WWW-Authenticate", StringComparison.OrdinalIgnoreCase));
    }

    [Theory]
    [InlineData("/connect/token", "POST")]
    [InlineData("/connect/userinfo", "GET")]
    [InlineData("/.well-known/openid-configuration", "GET")]
    public async Task A_preflight_from_an_unregistered_origin_gets_no_allow_origin(string path, string method)
    {
        var response = await PreflightAsync(path, Unregistered, method);

        AllowOrigin(response).ShouldBeNull();
    }

    [Fact]
    public async Task An_unregistered_origin_still_gets_the_answer_but_no_allow_origin()
    {
        var response = await SendAsync(HttpMethod.Get, "/.well-known/openid-configuration", Unregistered);

        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        AllowOrigin(response).ShouldBeNull();
    }

    [Fact]
    public async Task An_origin_is_matched_exactly_not_by_prefix()
    {
        var response = await SendAsync(HttpMethod.Get, "/.well-known/jwks", Registered + ".evil.example");

        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        AllowOrigin(response).ShouldBeNull();
    }

    [Theory]
    [InlineData("/connect/authorize")]
    [InlineData("/device")]
    [InlineData("/connect/endsession")]
    [InlineData("/Identity/Account/Login")]
    [InlineData("/consent")]
    public async Task Pages_never_get_CORS_headers_even_for_a_registered_origin(string path)
    {
        var get = await SendAsync(HttpMethod.Get, path, Registered);
        var preflight = await PreflightAsync(path, Registered, "POST");

        get.StatusCode.ShouldNotBe(HttpStatusCode.NotFound);
        HasCorsHeaders(get).ShouldBeFalse(path);
        HasCorsHeaders(preflight).ShouldBeFalse(path);
    }

    [Fact]
    public async Task The_authorize_endpoint_gets_no_CORS_headers_for_a_valid_request_from_a_registered_origin()
    {
        var url = CodeFlow.AuthorizeUrl(AuthServerFactory.WebAppClientId, AuthServerFactory.WebAppRedirectUri, CodeFlow.Pkce.New(), "openid");

        var response = await SendAsync(HttpMethod.Get, url, Registered);

        response.StatusCode.ShouldBe(HttpStatusCode.Redirect);
        response.Headers.Location!.ToString().ShouldContain("/Identity/Account/Login");
        HasCorsHeaders(response).ShouldBeFalse();
    }
}
