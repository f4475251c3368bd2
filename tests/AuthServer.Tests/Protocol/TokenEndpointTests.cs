using System.Net;
using System.Net.Http.Headers;
using System.Text;
using AuthServer.Tests.Infrastructure;

namespace AuthServer.Tests.Protocol;

public abstract class TokenEndpointTests(AuthServerFactory factory)
{
    public sealed class OnSqlite(AuthServerFactory server) : TokenEndpointTests(server), IClassFixture<AuthServerFactory>;

    public sealed class OnPostgreSql(PostgreSqlAuthServerFactory server) : TokenEndpointTests(server), IClassFixture<PostgreSqlAuthServerFactory>;

    private readonly HttpClient _http = factory.CreateClient();

    private static AuthenticationHeaderValue Basic(string id, string secret) =>
        new("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{Uri.EscapeDataString(id)}:{Uri.EscapeDataString(secret)}")));

    [Fact]
    public async Task Unknown_client_gets_invalid_client_401_with_a_challenge()
    {
        var answer = await _http.PollAsync("code", clientId: "nobody");

        answer.Status.ShouldBe(HttpStatusCode.Unauthorized);
        answer.Error.ShouldBe("invalid_client");
        answer.Response.Headers.WwwAuthenticate.ShouldContain(h => h.Scheme == "Basic");
        answer.Response.Headers.CacheControl!.NoStore.ShouldBeTrue();
    }

    [Fact]
    public async Task Missing_client_id_is_invalid_request()
    {
        var answer = await _http.PostFormAsync("/connect/token", ("grant_type", Infrastructure.Protocol.DeviceGrant), ("device_code", "x"));

        // OpenIddict: a request that names no client at all is malformed (RFC 6749 §5.2 invalid_request).
        answer.Status.ShouldBe(HttpStatusCode.BadRequest);
        answer.Error.ShouldBe("invalid_request");
    }

    [Fact]
    public async Task Confidential_client_with_a_wrong_secret_gets_invalid_client()
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/connect/token")
        {
            Content = new FormUrlEncodedContent([new("grant_type", Infrastructure.Protocol.DeviceGrant), new("device_code", "x")]),
        };
        request.Headers.Authorization = Basic(AuthServerFactory.SecretClientId, "wrong");

        var answer = await Infrastructure.Protocol.ReadAsync(await _http.SendAsync(request));

        answer.Status.ShouldBe(HttpStatusCode.Unauthorized);
        answer.Error.ShouldBe("invalid_client");
    }

    [Fact]
    public async Task Confidential_client_without_a_secret_gets_invalid_client()
    {
        var answer = await _http.PollAsync("x", clientId: AuthServerFactory.SecretClientId);

        answer.Status.ShouldBe(HttpStatusCode.Unauthorized);
        answer.Error.ShouldBe("invalid_client");
    }

    [Fact]
    public async Task Confidential_client_authenticates_with_client_secret_post()
    {
        var answer = await _http.PostFormAsync("/connect/device",
            ("client_id", AuthServerFactory.SecretClientId), ("client_secret", AuthServerFactory.SecretClientSecret), ("scope", "api"));

        answer.Status.ShouldBe(HttpStatusCode.OK);
        answer.Get("device_code").ShouldNotBeNullOrEmpty();
    }

    [Fact]
    public async Task A_confidential_clients_poll_is_answered_only_after_its_secret_is_checked()
    {
        var started = await _http.PostFormAsync("/connect/device",
            ("client_id", AuthServerFactory.SecretClientId), ("client_secret", AuthServerFactory.SecretClientSecret), ("scope", "api"));
        var deviceCode = started.Get("device_code");
        (string, string) grant = ("grant_type", Infrastructure.Protocol.DeviceGrant), code = ("device_code", deviceCode);

        // The pending answer comes from memory, but a confidential client must prove itself first: a wrong secret
        // hears invalid_client, and nothing about the code.
        var wrong = await _http.PostFormAsync("/connect/token", grant, code,
            ("client_id", AuthServerFactory.SecretClientId), ("client_secret", "not-the-secret"));
        wrong.Error.ShouldBe("invalid_client");
        var right = await _http.PostFormAsync("/connect/token", grant, code,
            ("client_id", AuthServerFactory.SecretClientId), ("client_secret", AuthServerFactory.SecretClientSecret));
        right.Status.ShouldBe(HttpStatusCode.BadRequest);
        right.Error.ShouldBe("authorization_pending");
    }

    [Fact]
    public async Task Confidential_client_authenticates_with_client_secret_basic()
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/connect/device") { Content = new FormUrlEncodedContent([new("scope", "api")]) };
        request.Headers.Authorization = Basic(AuthServerFactory.SecretClientId, AuthServerFactory.SecretClientSecret);

        var answer = await Infrastructure.Protocol.ReadAsync(await _http.SendAsync(request));

        answer.Status.ShouldBe(HttpStatusCode.OK);
        answer.Get("device_code").ShouldNotBeNullOrEmpty();
    }

    [Fact]
    public async Task Using_two_authentication_methods_at_once_is_invalid_request()
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/connect/device")
        {
            Content = new FormUrlEncodedContent([new("client_secret", AuthServerFactory.SecretClientSecret)]),
        };
        request.Headers.Authorization = Basic(AuthServerFactory.SecretClientId, AuthServerFactory.SecretClientSecret);

        var answer = await Infrastructure.Protocol.ReadAsync(await _http.SendAsync(request));

        answer.Status.ShouldBe(HttpStatusCode.BadRequest);
        answer.Error.ShouldBe("invalid_request");
    }

    [Fact]
    public async Task A_public_client_presenting_a_secret_gets_invalid_client()
    {
        var answer = await _http.PostFormAsync("/connect/device", ("client_id", "demo-tv"), ("client_secret", "guess"));

        answer.Status.ShouldBe(HttpStatusCode.Unauthorized);
        answer.Error.ShouldBe("invalid_client");
    }

    [Fact]
    public async Task Missing_grant_type_is_invalid_request()
    {
        var answer = await _http.PostFormAsync("/connect/token", ("client_id", "demo-tv"));

        answer.Status.ShouldBe(HttpStatusCode.BadRequest);
        answer.Error.ShouldBe("invalid_request");
    }

    [Theory]
    [InlineData("password")]
    [InlineData("implicit")]
    public async Task Unsupported_grant_types_are_refused(string grantType)
    {
        var answer = await _http.PostFormAsync("/connect/token", ("client_id", "demo-tv"), ("grant_type", grantType));

        answer.Status.ShouldBe(HttpStatusCode.BadRequest);
        answer.Error.ShouldBe("unsupported_grant_type");
    }

    [Fact]
    public async Task A_public_client_may_not_use_client_credentials()
    {
        var answer = await _http.PostFormAsync("/connect/token", ("client_id", "demo-tv"), ("grant_type", "client_credentials"));

        answer.Status.ShouldBe(HttpStatusCode.BadRequest);
        answer.Error.ShouldBeOneOf("unauthorized_client", "invalid_request");
        answer.Json.TryGetProperty("access_token", out _).ShouldBeFalse();
    }

    [Fact]
    public async Task A_confidential_service_gets_an_access_token_for_itself_with_client_credentials()
    {
        var answer = await _http.PostFormAsync("/connect/token", ("client_id", AuthServerFactory.ServiceClientId),
            ("client_secret", AuthServerFactory.ServiceClientSecret), ("grant_type", "client_credentials"), ("scope", "api"));

        answer.Status.ShouldBe(HttpStatusCode.OK, $"body: {answer.Json}");
        answer.Json.TryGetProperty("refresh_token", out _).ShouldBeFalse();
        var token = new Microsoft.IdentityModel.JsonWebTokens.JsonWebToken(answer.Get("access_token"));
        token.Subject.ShouldBe(AuthServerFactory.ServiceClientId);
        token.GetClaim("client_id").Value.ShouldBe(AuthServerFactory.ServiceClientId);
        token.Audiences.ShouldContain("api");

        var wrongSecret = await _http.PostFormAsync("/connect/token", ("client_id", AuthServerFactory.ServiceClientId),
            ("client_secret", "not-the-secret"), ("grant_type", "client_credentials"));
        wrongSecret.Error.ShouldBe("invalid_client");
    }

    [Fact]
    public async Task A_repeated_parameter_is_invalid_request()
    {
        var answer = await _http.PostFormAsync("/connect/token",
            ("client_id", "demo-tv"), ("grant_type", Infrastructure.Protocol.DeviceGrant), ("device_code", "a"), ("device_code", "b"));

        answer.Status.ShouldBe(HttpStatusCode.BadRequest);
        answer.Error.ShouldBe("invalid_request");
    }

    [Fact]
    public async Task A_json_body_is_invalid_request_not_a_server_error()
    {
        var response = await _http.PostAsync("/connect/token", new StringContent("{\"grant_type\":\"x\"}", Encoding.UTF8, "application/json"));
        var answer = await Infrastructure.Protocol.ReadAsync(response);

        answer.Status.ShouldBe(HttpStatusCode.BadRequest);
        answer.Error.ShouldBe("invalid_request");
    }

    [Fact]
    public async Task A_malformed_form_body_is_invalid_request()
    {
        var response = await _http.PostAsync("/connect/token", new StringContent("%%%=%zz&&=", Encoding.UTF8, "application/x-www-form-urlencoded"));
        var answer = await Infrastructure.Protocol.ReadAsync(response);

        ((int)answer.Status).ShouldBeLessThan(500);
        answer.Error.ShouldNotBeNull();
    }

    [Fact]
    public async Task A_malformed_basic_header_is_invalid_request()
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/connect/token") { Content = new FormUrlEncodedContent([new("grant_type", "x")]) };
        request.Headers.TryAddWithoutValidation("Authorization", "Basic !!!not-base64");

        var answer = await Infrastructure.Protocol.ReadAsync(await _http.SendAsync(request));

        // OpenIddict: credentials that cannot be read make the request malformed.
        answer.Status.ShouldBe(HttpStatusCode.BadRequest);
        answer.Error.ShouldBe("invalid_request");
    }

    [Fact]
    public async Task GET_on_the_token_endpoint_answers_an_oauth_error()
    {
        var answer = await Infrastructure.Protocol.ReadAsync(await _http.GetAsync("/connect/token"));

        answer.Status.ShouldBe(HttpStatusCode.BadRequest);
        answer.Error.ShouldBe("invalid_request");
    }
}
