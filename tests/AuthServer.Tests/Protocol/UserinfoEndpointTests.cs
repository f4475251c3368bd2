using System.Net;
using System.Net.Http.Headers;
using AuthServer.Tests.Infrastructure;

namespace AuthServer.Tests.Protocol;

public abstract class UserinfoEndpointTests(AuthServerFactory factory)
{
    public sealed class OnSqlite(AuthServerFactory server) : UserinfoEndpointTests(server), IClassFixture<AuthServerFactory>;

    public sealed class OnPostgreSql(PostgreSqlAuthServerFactory server) : UserinfoEndpointTests(server), IClassFixture<PostgreSqlAuthServerFactory>;

    private readonly HttpClient _http = factory.CreateClient();

    private async Task<Infrastructure.Protocol.Answer> GetUserinfoAsync(string? token)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, "/connect/userinfo");
        if (token is not null) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return await Infrastructure.Protocol.ReadAsync(await _http.SendAsync(request));
    }

    [Fact]
    public async Task A_valid_token_with_openid_and_profile_returns_the_users_claims()
    {
        var tokens = await factory.SignInDeviceAsync();

        var answer = await GetUserinfoAsync(tokens.Get("access_token"));

        answer.Status.ShouldBe(HttpStatusCode.OK);
        answer.Response.Headers.CacheControl!.NoStore.ShouldBeTrue();
        answer.Get("sub").ShouldNotBeNullOrEmpty();
        answer.Get("name").ShouldBe("Demo User");
        answer.Get("preferred_username").ShouldBe(AuthServerFactory.DemoEmail);
        answer.Json.TryGetProperty("email", out _).ShouldBeFalse(); // the email scope was not granted
    }

    [Fact]
    public async Task The_token_may_come_in_a_POST_body()
    {
        var tokens = await factory.SignInDeviceAsync();

        var answer = await _http.PostFormAsync("/connect/userinfo", ("access_token", tokens.Get("access_token")));

        answer.Status.ShouldBe(HttpStatusCode.OK);
        answer.Get("name").ShouldBe("Demo User");
    }

    [Fact]
    public async Task Without_openid_in_the_token_the_answer_is_insufficient_scope()
    {
        var tokens = await factory.SignInDeviceAsync(scope: "api");

        var answer = await GetUserinfoAsync(tokens.Get("access_token"));

        answer.Status.ShouldBe(HttpStatusCode.Forbidden);
        answer.Error.ShouldBe("insufficient_scope");
    }

    [Fact]
    public async Task Without_a_token_the_answer_is_a_bearer_challenge()
    {
        var answer = await GetUserinfoAsync(null);

        answer.Status.ShouldBe(HttpStatusCode.Unauthorized);
        answer.Response.Headers.WwwAuthenticate.ToString().ShouldBe("Bearer");
    }

    [Fact]
    public async Task A_tampered_token_is_invalid_token()
    {
        var token = (await factory.SignInDeviceAsync()).Get("access_token");
        var parts = token.Split('.');
        var tampered = $"{parts[0]}.{parts[1]}x.{parts[2]}";

        var answer = await GetUserinfoAsync(tampered);

        answer.Status.ShouldBe(HttpStatusCode.Unauthorized);
        answer.Error.ShouldBe("invalid_token");
        answer.Response.Headers.WwwAuthenticate.ToString().ShouldContain("error=\"invalid_token\"");
    }

    [Fact]
    public async Task An_expired_token_is_invalid_token()
    {
        var token = (await factory.SignInDeviceAsync()).Get("access_token");
        factory.Clock.Advance(TimeSpan.FromMinutes(10) + TimeSpan.FromSeconds(1));

        (await GetUserinfoAsync(token)).Error.ShouldBe("invalid_token");
    }

    [Fact]
    public async Task An_id_token_is_not_accepted_as_an_access_token()
    {
        var idToken = (await factory.SignInDeviceAsync()).Get("id_token");

        (await GetUserinfoAsync(idToken)).Error.ShouldBe("invalid_token");
    }
}
