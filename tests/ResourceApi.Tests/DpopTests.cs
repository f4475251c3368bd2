using System.Net;
using AuthServer.Tests.Infrastructure;
using Microsoft.IdentityModel.JsonWebTokens;
using ResourceApi.Tests.Infrastructure;

namespace ResourceApi.Tests;

/// <summary>
/// DPoP-bound access tokens (RFC 9449 §7) at the sample resource API: the token comes from a device flow bound to the
/// screen's key, and every request needs a fresh proof from that key for that request and that token.
/// </summary>
public sealed class DpopTests(Servers servers) : IClassFixture<Servers>, IDisposable
{
    private readonly HttpClient _api = servers.ApiClient();
    private readonly ProofKey _key = new();

    private AuthServerFactory AuthServer => servers.AuthServer;

    private async Task<string> BoundAccessTokenAsync()
    {
        var tokens = await AuthServer.SignInDeviceWithDpopAsync(_key);
        var access = tokens.Get("access_token");
        // RFC 9449 §6.1: the token names the key it is bound to.
        new JsonWebToken(access).GetPayloadValue<Dictionary<string, object>>("cnf")["jkt"].ToString().ShouldBe(_key.Thumbprint);
        return access;
    }

    [Fact]
    public async Task A_bound_token_with_a_proof_reaches_me_as_DPoP()
    {
        var access = await BoundAccessTokenAsync();

        var response = await _api.GetAsync("/me", "DPoP", access, _key.ProofFor(AuthServer, "/me", access));

        var me = await Servers.JsonAsync(response);
        me.GetProperty("token_type").GetString().ShouldBe("DPoP");
        me.GetProperty("sub").GetString().ShouldBe(await servers.DemoUserIdAsync());
        me.GetProperty("client_id").GetString().ShouldBe("demo-tv");
        me.GetProperty("device_id").GetString().ShouldBe(new JsonWebToken(access).GetClaim("device_id").Value);
    }

    [Fact]
    public async Task A_token_bound_to_an_RSA_key_works_with_RS256_proofs()
    {
        using var rsa = new ProofKey(rsa: true);
        var access = (await AuthServer.SignInDeviceWithDpopAsync(rsa)).Get("access_token");

        var response = await _api.GetAsync("/me", "DPoP", access, rsa.ProofFor(AuthServer, "/me", access));

        (await Servers.JsonAsync(response)).GetProperty("token_type").GetString().ShouldBe("DPoP");
    }

    [Fact]
    public async Task A_proof_whose_jwk_holds_the_private_key_is_refused()
    {
        var access = await BoundAccessTokenAsync();
        var proof = _key.Proof("GET", Tokens.ApiOrigin + "/me", AuthServer.Clock.GetUtcNow(), access, jwk: _key.PrivateJwk());
        ShouldBeInvalidProof(await _api.GetAsync("/me", "DPoP", access, proof), "public EC or RSA key");
    }

    [Fact]
    public async Task Each_request_takes_a_new_proof_and_a_replayed_one_is_refused()
    {
        var access = await BoundAccessTokenAsync();
        var proof = _key.ProofFor(AuthServer, "/me", access);

        (await _api.GetAsync("/me", "DPoP", access, proof)).StatusCode.ShouldBe(HttpStatusCode.OK);
        ShouldBeInvalidProof(await _api.GetAsync("/me", "DPoP", access, proof), "already used");
        (await _api.GetAsync("/me", "DPoP", access, _key.ProofFor(AuthServer, "/me", access))).StatusCode.ShouldBe(HttpStatusCode.OK);
    }

    [Fact]
    public async Task A_proof_for_another_URI_is_refused()
    {
        var access = await BoundAccessTokenAsync();
        ShouldBeInvalidProof(await _api.GetAsync("/me", "DPoP", access, _key.ProofFor(AuthServer, "/other", access)), "htu");
        ShouldBeInvalidProof(await _api.GetAsync("/me", "DPoP", access,
            _key.Proof("GET", "https://api.example.com/me", AuthServer.Clock.GetUtcNow(), access)), "htu");
    }

    [Fact]
    public async Task The_htu_is_compared_without_query_and_with_the_host_case_insensitive()
    {
        var access = await BoundAccessTokenAsync();
        var response = await _api.GetAsync("/me?x=1", "DPoP", access,
            _key.Proof("GET", "http://LOCALHOST/me", AuthServer.Clock.GetUtcNow(), access));
        response.StatusCode.ShouldBe(HttpStatusCode.OK);
    }

    [Fact]
    public async Task A_proof_for_another_method_is_refused()
    {
        var access = await BoundAccessTokenAsync();
        ShouldBeInvalidProof(await _api.GetAsync("/me", "DPoP", access, _key.ProofFor(AuthServer, "/me", access, method: "POST")), "htm");
    }

    [Fact]
    public async Task A_proof_made_by_another_key_is_refused()
    {
        var access = await BoundAccessTokenAsync();
        using var stranger = new ProofKey();
        ShouldBeInvalidProof(await _api.GetAsync("/me", "DPoP", access, stranger.ProofFor(AuthServer, "/me", access)), "another key");
    }

    [Fact]
    public async Task A_proof_without_ath_or_for_another_token_is_refused()
    {
        var access = await BoundAccessTokenAsync();
        ShouldBeInvalidProof(await _api.GetAsync("/me", "DPoP", access, _key.ProofFor(AuthServer, "/me", accessToken: null)), "ath");
        ShouldBeInvalidProof(await _api.GetAsync("/me", "DPoP", access, _key.ProofFor(AuthServer, "/me", access + "x")), "ath");
    }

    [Fact]
    public async Task A_proof_too_old_or_from_the_future_is_refused()
    {
        var access = await BoundAccessTokenAsync();
        var now = AuthServer.Clock.GetUtcNow();
        ShouldBeInvalidProof(await _api.GetAsync("/me", "DPoP", access, _key.Proof("GET", Tokens.ApiOrigin + "/me", now.AddSeconds(-61), access)), "iat");
        ShouldBeInvalidProof(await _api.GetAsync("/me", "DPoP", access, _key.Proof("GET", Tokens.ApiOrigin + "/me", now.AddSeconds(61), access)), "iat");
        // Within the window either way is fine: clocks differ a little.
        (await _api.GetAsync("/me", "DPoP", access, _key.Proof("GET", Tokens.ApiOrigin + "/me", now.AddSeconds(-50), access)))
            .StatusCode.ShouldBe(HttpStatusCode.OK);
    }

    [Fact]
    public async Task A_proof_of_the_wrong_type_or_none_at_all_is_refused()
    {
        var access = await BoundAccessTokenAsync();
        ShouldBeInvalidProof(await _api.GetAsync("/me", "DPoP", access, proof: null), "proof is required");
        ShouldBeInvalidProof(await _api.GetAsync("/me", "DPoP", access,
            _key.Proof("GET", Tokens.ApiOrigin + "/me", AuthServer.Clock.GetUtcNow(), access, typ: "JWT")), "typ");
        ShouldBeInvalidProof(await _api.GetAsync("/me", "DPoP", access, "not-a-jwt"), "not a JWT");
    }

    [Fact]
    public async Task A_tampered_proof_is_refused()
    {
        var access = await BoundAccessTokenAsync();
        var proof = _key.ProofFor(AuthServer, "/me", access).Split('.');
        using var other = new ProofKey();
        var otherProof = other.ProofFor(AuthServer, "/me", access).Split('.');
        // Our header and claims with another key's signature.
        ShouldBeInvalidProof(await _api.GetAsync("/me", "DPoP", access, $"{proof[0]}.{proof[1]}.{otherProof[2]}"), "signature");
    }

    [Fact]
    public async Task The_bound_token_sent_as_a_Bearer_token_is_refused()
    {
        var access = await BoundAccessTokenAsync();

        var withoutProof = await _api.GetAsync("/me", "Bearer", access);
        var withProof = await _api.GetAsync("/me", "Bearer", access, _key.ProofFor(AuthServer, "/me", access));

        foreach (var response in new[] { withoutProof, withProof })
        {
            response.StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
            var challenge = response.Challenges().ShouldHaveSingleItem();
            challenge.ShouldStartWith("DPoP ");
            challenge.ShouldContain("error=\"invalid_token\"");
        }
    }

    [Fact]
    public async Task A_bound_token_without_the_api_scope_gets_403_with_a_DPoP_challenge()
    {
        var tokens = await AuthServer.SignInDeviceWithDpopAsync(_key, scope: "openid offline_access");
        var access = tokens.Get("access_token");

        var response = await _api.GetAsync("/me", "DPoP", access, _key.ProofFor(AuthServer, "/me", access));

        response.StatusCode.ShouldBe(HttpStatusCode.Forbidden);
        var challenge = response.Challenges().ShouldHaveSingleItem();
        challenge.ShouldStartWith("DPoP ");
        challenge.ShouldContain("error=\"insufficient_scope\"");
    }

    [Fact]
    public async Task A_replay_cache_full_of_live_proofs_refuses_new_ones_until_they_age_out()
    {
        // DpopReplayCacheSize reaches the shared library: with room for one proof id, a second live proof is refused.
        using var small = new Servers(new AuthServerFactory(), new() { ["DpopReplayCacheSize"] = "1" });
        var api = small.ApiClient();
        var access = (await small.AuthServer.SignInDeviceWithDpopAsync(_key)).Get("access_token");

        (await api.GetAsync("/me", "DPoP", access, _key.ProofFor(small.AuthServer, "/me", access))).StatusCode.ShouldBe(HttpStatusCode.OK);
        ShouldBeInvalidProof(await api.GetAsync("/me", "DPoP", access, _key.ProofFor(small.AuthServer, "/me", access)), "Too many DPoP proofs");

        // Once the first proof could no longer pass its iat check, its place is free again.
        small.AuthServer.Clock.Advance(TimeSpan.FromSeconds(61));
        (await api.GetAsync("/me", "DPoP", access, _key.ProofFor(small.AuthServer, "/me", access))).StatusCode.ShouldBe(HttpStatusCode.OK);
    }

    /// <summary>401 invalid_dpop_proof, for the <paramref name="reason"/> given (part of the error description).</summary>
    private static void ShouldBeInvalidProof(HttpResponseMessage response, string reason)
    {
        response.StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
        var challenge = response.Challenges().ShouldHaveSingleItem();
        challenge.ShouldStartWith("DPoP ");
        challenge.ShouldContain("error=\"invalid_dpop_proof\"");
        challenge.ShouldContain("algs=\"ES256 RS256\"");
        challenge.ShouldContain(reason);
    }

    public void Dispose() => _key.Dispose();
}
