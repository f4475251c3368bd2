using System.Net;
using System.Text;
using AuthServer.Tests.Infrastructure;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using ResourceApi.Tests.Infrastructure;

namespace ResourceApi.Tests;

/// <summary>Plain Bearer access tokens (RFC 6750, RFC 9068) from the device flow, at the sample resource API.</summary>
public sealed class BearerTokenTests(Servers servers) : IClassFixture<Servers>
{
    private readonly HttpClient _api = servers.ApiClient();

    [Fact]
    public async Task A_device_flow_token_reaches_me_with_the_user_and_the_linked_device()
    {
        var tokens = await servers.AuthServer.SignInDeviceAsync();

        var me = await Servers.JsonAsync(await _api.GetAsync("/me", "Bearer", tokens.Get("access_token")));

        var userId = await servers.DemoUserIdAsync();
        me.GetProperty("sub").GetString().ShouldBe(userId);
        me.GetProperty("client_id").GetString().ShouldBe("demo-tv");
        me.GetProperty("scope").GetString()!.Split(' ').ShouldContain("api");
        me.GetProperty("token_type").GetString().ShouldBe("Bearer");
        // The device is the one this sign-in linked: the ID token of the same response names it too.
        var deviceId = me.GetProperty("device_id").GetString()!;
        deviceId.ShouldBe(new JsonWebToken(tokens.Get("id_token")).GetClaim("device_id").Value);
        (await servers.HasLinkedDeviceAsync(userId, deviceId)).ShouldBeTrue();
    }

    [Fact]
    public async Task The_scheme_name_is_case_insensitive()
    {
        var tokens = await servers.AuthServer.SignInDeviceAsync();
        var response = await _api.GetAsync("/me", "bearer", tokens.Get("access_token"));
        response.StatusCode.ShouldBe(HttpStatusCode.OK);
    }

    [Fact]
    public async Task Without_a_token_the_answer_is_401_offering_both_schemes()
    {
        var response = await _api.GetAsync("/me");

        response.StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
        var challenges = response.Challenges();
        challenges.ShouldContain("Bearer");
        challenges.ShouldContain("DPoP algs=\"ES256 RS256\"");
    }

    [Fact]
    public async Task Health_needs_no_token()
    {
        var response = await _api.GetAsync("/health");
        response.StatusCode.ShouldBe(HttpStatusCode.OK);
    }

    [Fact]
    public async Task A_token_for_another_audience_is_refused()
    {
        var response = await _api.GetAsync("/me", "Bearer", servers.AuthServer.Mint(audience: "billing"));
        ShouldBeInvalidToken(response, "not meant for this API");
    }

    [Fact]
    public async Task A_token_of_another_issuer_is_refused()
    {
        var response = await _api.GetAsync("/me", "Bearer", servers.AuthServer.Mint(issuer: "https://login.example.com"));
        ShouldBeInvalidToken(response, "another authorization server");
    }

    [Fact]
    public async Task A_minted_token_that_is_right_in_every_way_is_accepted()
    {
        // The control for the tests above and below: only the one thing each changes makes the difference.
        var response = await _api.GetAsync("/me", "Bearer", servers.AuthServer.Mint());
        var me = await Servers.JsonAsync(response);
        me.GetProperty("sub").GetString().ShouldBe("minted-subject");
    }

    [Fact]
    public async Task An_ID_token_or_any_JWT_without_typ_at_jwt_is_not_an_access_token()
    {
        // RFC 9068 §4: an ID token is signed by the same server but must never be taken for an access token.
        var tokens = await servers.AuthServer.SignInDeviceAsync();
        ShouldBeInvalidToken(await _api.GetAsync("/me", "Bearer", tokens.Get("id_token")), "typ must be at+jwt");
        ShouldBeInvalidToken(await _api.GetAsync("/me", "Bearer", servers.AuthServer.Mint(typ: "JWT")), "typ must be at+jwt");
    }

    [Fact]
    public async Task Access_tokens_are_accepted_only_with_ES256_or_RS256()
    {
        // An RS256 token from the server's own RS256 key is fine …
        var rs256 = await _api.GetAsync("/me", "Bearer", servers.AuthServer.Mint(algorithm: SecurityAlgorithms.RsaSha256));
        rs256.StatusCode.ShouldBe(HttpStatusCode.OK);

        // … an unsigned one is not.
        var access = servers.AuthServer.Mint();
        var unsigned = Base64UrlEncoder.Encode("{\"alg\":\"none\",\"typ\":\"at+jwt\"}") + "." + access.Split('.')[1] + ".";
        ShouldBeInvalidToken(await _api.GetAsync("/me", "Bearer", unsigned), "alg");
    }

    [Fact]
    public async Task A_tampered_token_is_refused()
    {
        var tokens = await servers.AuthServer.SignInDeviceAsync();
        var parts = tokens.Get("access_token").Split('.');
        var payload = Encoding.UTF8.GetString(Base64UrlEncoder.DecodeBytes(parts[1]));
        var userId = await servers.DemoUserIdAsync();
        payload.ShouldContain(userId);
        var tampered = parts[0] + "." + Base64UrlEncoder.Encode(payload.Replace(userId, "someone-else")) + "." + parts[2];

        ShouldBeInvalidToken(await _api.GetAsync("/me", "Bearer", tampered), "signature");
    }

    [Fact]
    public async Task Garbage_is_refused_and_fetches_no_keys()
    {
        var before = servers.Api.AuthorityRequests.Count;
        ShouldBeInvalidToken(await _api.GetAsync("/me", "Bearer", "not-a-jwt"), "not a JWT");
        servers.Api.AuthorityRequests.Count.ShouldBe(before);
    }

    [Fact]
    public async Task A_token_without_the_api_scope_gets_403_insufficient_scope()
    {
        var tokens = await servers.AuthServer.SignInDeviceAsync(scope: "openid profile offline_access");

        var response = await _api.GetAsync("/me", "Bearer", tokens.Get("access_token"));

        response.StatusCode.ShouldBe(HttpStatusCode.Forbidden);
        var challenge = response.Challenges().ShouldHaveSingleItem();
        challenge.ShouldStartWith("Bearer ");
        challenge.ShouldContain("error=\"insufficient_scope\"");
        challenge.ShouldContain("scope=\"api\"");
    }

    [Fact]
    public async Task An_unbound_token_sent_with_the_DPoP_scheme_is_refused()
    {
        var tokens = await servers.AuthServer.SignInDeviceAsync();
        using var key = new ProofKey();
        var access = tokens.Get("access_token");

        var response = await _api.GetAsync("/me", "DPoP", access, key.ProofFor(servers.AuthServer, "/me", access));

        response.StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
        response.Challenges().ShouldHaveSingleItem().ShouldContain("error=\"invalid_token\"");
    }

    /// <summary>401 invalid_token with a Bearer challenge; <paramref name="reason"/>, when given, is part of the description.</summary>
    internal static void ShouldBeInvalidToken(HttpResponseMessage response, string? reason = null)
    {
        response.StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
        var challenge = response.Challenges().ShouldHaveSingleItem();
        challenge.ShouldStartWith("Bearer ");
        challenge.ShouldContain("error=\"invalid_token\"");
        if (reason is not null) challenge.ShouldContain(reason);
    }
}
