using System.Text.Json.Nodes;
using AuthServer.Dpop.Tests.Infrastructure;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace AuthServer.Dpop.Tests;

/// <summary>Every proof rule of RFC 9449 §4.3 (and §7, §8 at resource and token endpoints), each right and wrong.</summary>
public sealed class DpopProofValidatorTests : IDisposable
{
    private const string Url = Validation.Origin + "/me";
    private const string AccessToken = "eyJ0eXAiOiJhdCtqd3QifQ.e30.signature";

    private readonly Validation _validation = new();
    private readonly TestKey _key = TestKey.Es256();

    private DateTimeOffset Now => _validation.Now;

    private static void ShouldBeRefused(DpopProofValidator.Result result, string reason)
    {
        result.Proof.ShouldBeNull();
        result.NonceMissing.ShouldBeFalse();
        result.Error.ShouldNotBeNull().ShouldContain(reason);
    }

    private static DpopProof ShouldBeAccepted(DpopProofValidator.Result result)
    {
        result.Error.ShouldBeNull();
        return result.Proof.ShouldNotBeNull();
    }

    [Theory]
    [InlineData("ES256")]
    [InlineData("ES384")]
    [InlineData("RS256")]
    [InlineData("PS256")]
    public async Task A_well_formed_proof_is_accepted_and_names_its_keys_thumbprint(string alg)
    {
        using var key = alg switch { "ES256" => TestKey.Es256(), "ES384" => TestKey.Es384(), "RS256" => TestKey.Rs256(), _ => TestKey.Ps256() };

        var proof = ShouldBeAccepted(await _validation.ValidateAsync("GET", "/me", key.Proof("GET", Url, Now)));

        proof.Jkt.ShouldBe(key.Thumbprint());
    }

    [Fact]
    public async Task Without_a_DPoP_header_there_is_neither_a_proof_nor_an_error()
    {
        var result = await _validation.Validator.ValidateAsync(Validation.Request("GET", "/me"), AccessToken);

        result.ShouldBe(new DpopProofValidator.Result(null, null));
    }

    [Fact]
    public async Task Two_DPoP_headers_are_refused()
    {
        var request = Validation.Request("GET", "/me", _key.Proof("GET", Url, Now), _key.Proof("GET", Url, Now));

        ShouldBeRefused(await _validation.Validator.ValidateAsync(request), "Exactly one DPoP header");
    }

    [Theory]
    [InlineData("not-a-jwt")]
    [InlineData("a.b.c")]
    [InlineData("")]
    public async Task A_header_that_is_not_a_JWT_is_refused(string proof)
    {
        ShouldBeRefused(await _validation.ValidateAsync("GET", "/me", proof), "not a JWT");
    }

    [Theory]
    [InlineData("JWT")]
    [InlineData("at+jwt")]
    [InlineData("DPOP+JWT")]
    [InlineData(null)]
    public async Task A_proof_whose_typ_is_not_dpop_jwt_is_refused(string? typ)
    {
        var proof = _key.Proof("GET", Url, Now, header: h => h["typ"] = typ);

        ShouldBeRefused(await _validation.ValidateAsync("GET", "/me", proof), "typ");
    }

    [Theory]
    [InlineData("none")]
    [InlineData("HS256")]
    public async Task A_proof_with_no_or_a_symmetric_alg_is_refused(string alg)
    {
        var proof = _key.Proof("GET", Url, Now, header: h => h["alg"] = alg);

        ShouldBeRefused(await _validation.ValidateAsync("GET", "/me", proof), "alg");
    }

    [Fact]
    public async Task An_algorithm_outside_the_configured_subset_is_refused()
    {
        using var narrow = new Validation(o => o.Algorithms = ["ES256", "RS256"]);
        using var es384 = TestKey.Es384();

        ShouldBeRefused(await narrow.ValidateAsync("GET", "/me", es384.Proof("GET", Url, narrow.Now)), "alg");
        ShouldBeAccepted(await narrow.ValidateAsync("GET", "/me", _key.Proof("GET", Url, narrow.Now)));
        narrow.Validator.AcceptedAlgorithms.ShouldBe(["ES256", "RS256"]);
        _validation.Validator.AcceptedAlgorithms.ShouldBe(DpopProofValidator.Algorithms);
    }

    [Fact]
    public async Task A_proof_whose_EC_jwk_holds_the_private_key_is_refused()
    {
        var proof = _key.Proof("GET", Url, Now, header: h => h["jwk"] = _key.PrivateJwk());

        ShouldBeRefused(await _validation.ValidateAsync("GET", "/me", proof), "public EC or RSA key");
    }

    [Theory]
    [InlineData("d")]
    [InlineData("p")]
    [InlineData("q")]
    [InlineData("dp")]
    [InlineData("dq")]
    [InlineData("qi")]
    public async Task A_proof_whose_RSA_jwk_holds_any_private_member_is_refused(string member)
    {
        using var rsa = TestKey.Rs256();
        var withMember = rsa.PublicJwk();
        withMember[member] = rsa.PrivateJwk()[member]!.GetValue<string>();

        var proof = rsa.Proof("GET", Url, Now, header: h => h["jwk"] = withMember);

        ShouldBeRefused(await _validation.ValidateAsync("GET", "/me", proof), "public EC or RSA key");
    }

    [Fact]
    public async Task A_proof_whose_jwk_is_symmetric_missing_or_not_an_object_is_refused()
    {
        var symmetric = new JsonObject { ["kty"] = "oct", ["k"] = "c2VjcmV0LWtleS1tYXRlcmlhbC0wMTIzNDU2Nzg5YWJj" };
        var incomplete = _key.PublicJwk();
        incomplete.Remove("y");

        ShouldBeRefused(await _validation.ValidateAsync("GET", "/me", _key.Proof("GET", Url, Now, header: h => h["jwk"] = symmetric)), "public EC or RSA key");
        ShouldBeRefused(await _validation.ValidateAsync("GET", "/me", _key.Proof("GET", Url, Now, header: h => h["jwk"] = incomplete)), "public EC or RSA key");
        ShouldBeRefused(await _validation.ValidateAsync("GET", "/me", _key.Proof("GET", Url, Now, header: h => h["jwk"] = null)), "public EC or RSA key");
        ShouldBeRefused(await _validation.ValidateAsync("GET", "/me", _key.Proof("GET", Url, Now, header: h => h["jwk"] = "a key")), "public EC or RSA key");
    }

    [Fact]
    public async Task A_proof_signed_by_another_key_than_its_jwk_is_refused()
    {
        using var other = TestKey.Es256();

        var proof = other.Proof("GET", Url, Now, header: h => h["jwk"] = _key.PublicJwk());

        ShouldBeRefused(await _validation.ValidateAsync("GET", "/me", proof), "signature");
    }

    [Fact]
    public async Task A_proof_for_another_method_is_refused()
    {
        ShouldBeRefused(await _validation.ValidateAsync("GET", "/me", _key.Proof("POST", Url, Now)), "htm");
        ShouldBeRefused(await _validation.ValidateAsync("GET", "/me", _key.Proof("get", Url, Now)), "htm");
    }

    [Theory]
    [InlineData(Validation.Origin + "/other")]
    [InlineData(Validation.Origin + "/me/")]
    [InlineData(Validation.Origin + "/ME")]
    [InlineData("http://api.example.com/me")]
    [InlineData("https://api.example.com:8443/me")]
    [InlineData("https://attacker.example/me")]
    [InlineData("/me")]
    [InlineData("not a uri")]
    public async Task A_proof_for_another_URI_is_refused(string htu)
    {
        ShouldBeRefused(await _validation.ValidateAsync("GET", "/me", _key.Proof("GET", htu, Now)), "htu");
    }

    [Fact]
    public async Task A_proof_without_htm_or_htu_is_refused()
    {
        ShouldBeRefused(await _validation.ValidateAsync("GET", "/me", _key.Proof("GET", Url, Now, claims: c => c["htm"] = null)), "htm");
        ShouldBeRefused(await _validation.ValidateAsync("GET", "/me", _key.Proof("GET", Url, Now, claims: c => c["htu"] = null)), "htu");
    }

    [Theory]
    // §4.3 step 9: query and fragment are not compared; scheme and host are case-insensitive; default ports are implied.
    [InlineData("/me", Url + "?page=2")]
    [InlineData("/me?page=2", Url)]
    [InlineData("/me?page=2", Url + "?page=3")]
    [InlineData("/me", Url + "#section")]
    [InlineData("/me", "HTTPS://API.EXAMPLE.COM/me")]
    [InlineData("/me", "https://api.example.com:443/me")]
    public async Task The_htu_is_compared_without_query_or_fragment_and_normalized(string target, string htu)
    {
        ShouldBeAccepted(await _validation.ValidateAsync("GET", target, _key.Proof("GET", htu, Now)));
    }

    [Fact]
    public async Task The_htu_is_compared_with_the_URI_the_host_says_the_client_called()
    {
        // Behind a proxy this process sees another origin than the client called; the host's IDpopRequestUri says which.
        using var proxied = new Validation(services: s => s.AddSingleton<IDpopRequestUri>(new PublicUri("https://login.example.com")));

        ShouldBeAccepted(await proxied.ValidateAsync("GET", "/me", _key.Proof("GET", "https://login.example.com/me", proxied.Now)));
        ShouldBeRefused(await proxied.ValidateAsync("GET", "/me", _key.Proof("GET", Url, proxied.Now)), "htu");
    }

    private sealed class PublicUri(string origin) : IDpopRequestUri
    {
        public string For(HttpRequest request) => origin + request.Path;
    }

    [Theory]
    [InlineData(-61)]
    [InlineData(61)]
    [InlineData(-3600)]
    public async Task A_proof_made_too_long_before_or_after_now_is_refused(int seconds)
    {
        ShouldBeRefused(await _validation.ValidateAsync("GET", "/me", _key.Proof("GET", Url, Now.AddSeconds(seconds))), "iat");
    }

    [Theory]
    [InlineData(-60)]
    [InlineData(60)]
    [InlineData(0)]
    public async Task A_proof_made_within_the_window_either_side_is_accepted(int seconds)
    {
        ShouldBeAccepted(await _validation.ValidateAsync("GET", "/me", _key.Proof("GET", Url, Now.AddSeconds(seconds))));
    }

    [Fact]
    public async Task A_proof_without_iat_or_with_a_string_iat_is_refused()
    {
        ShouldBeRefused(await _validation.ValidateAsync("GET", "/me", _key.Proof("GET", Url, Now, claims: c => c["iat"] = null)), "iat");
        // A registered claim of the wrong type (RFC 7519 §4.1.6: a NumericDate) makes the JWT itself malformed.
        ShouldBeRefused(await _validation.ValidateAsync("GET", "/me", _key.Proof("GET", Url, Now, claims: c => c["iat"] = "yesterday")), "not a JWT");
    }

    [Fact]
    public async Task With_an_access_token_the_proof_must_carry_its_ath()
    {
        ShouldBeAccepted(await _validation.ValidateAsync("GET", "/me", _key.Proof("GET", Url, Now, AccessToken), AccessToken));
        ShouldBeRefused(await _validation.ValidateAsync("GET", "/me", _key.Proof("GET", Url, Now), AccessToken), "ath");
    }

    [Fact]
    public async Task An_ath_for_another_token_is_refused()
    {
        var proof = _key.Proof("GET", Url, Now, accessToken: AccessToken + "x");

        ShouldBeRefused(await _validation.ValidateAsync("GET", "/me", proof, AccessToken), "ath");
    }

    [Fact]
    public async Task An_ath_that_is_the_hash_written_in_another_encoding_is_refused()
    {
        // base64 with padding, not base64url: the same bytes, but not the value RFC 9449 §4.2 defines.
        var hash = System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.ASCII.GetBytes(AccessToken));
        var proof = _key.Proof("GET", Url, Now, claims: c => c["ath"] = Convert.ToBase64String(hash));

        ShouldBeRefused(await _validation.ValidateAsync("GET", "/me", proof, AccessToken), "ath");
    }

    [Fact]
    public async Task A_proof_by_another_key_than_the_token_is_bound_to_is_refused()
    {
        using var other = TestKey.Es256();

        ShouldBeRefused(await _validation.ValidateAsync("GET", "/me", other.Proof("GET", Url, Now, AccessToken), AccessToken, boundJkt: _key.Thumbprint()),
            "another key");
        ShouldBeAccepted(await _validation.ValidateAsync("GET", "/me", _key.Proof("GET", Url, Now, AccessToken), AccessToken, boundJkt: _key.Thumbprint()));
    }

    [Fact]
    public async Task A_proof_without_a_usable_jti_is_refused()
    {
        ShouldBeRefused(await _validation.ValidateAsync("GET", "/me", _key.Proof("GET", Url, Now, claims: c => c["jti"] = null)), "jti");
        ShouldBeRefused(await _validation.ValidateAsync("GET", "/me", _key.Proof("GET", Url, Now, claims: c => c["jti"] = "")), "jti");
        ShouldBeRefused(await _validation.ValidateAsync("GET", "/me", _key.Proof("GET", Url, Now, claims: c => c["jti"] = new string('j', 257))), "jti");
        ShouldBeAccepted(await _validation.ValidateAsync("GET", "/me", _key.Proof("GET", Url, Now, claims: c => c["jti"] = new string('j', 256))));
    }

    [Fact]
    public async Task A_replayed_proof_is_refused_and_so_is_a_new_proof_reusing_its_jti()
    {
        var proof = _key.Proof("GET", Url, Now, claims: c => c["jti"] = "once");

        ShouldBeAccepted(await _validation.ValidateAsync("GET", "/me", proof));
        ShouldBeRefused(await _validation.ValidateAsync("GET", "/me", proof), "already used");
        _validation.Clock.Advance(TimeSpan.FromSeconds(1));
        ShouldBeRefused(await _validation.ValidateAsync("GET", "/me", _key.Proof("GET", Url, Now, claims: c => c["jti"] = "once")), "already used");
    }

    [Fact]
    public async Task The_same_jti_from_another_key_is_another_proof()
    {
        using var other = TestKey.Es256();

        ShouldBeAccepted(await _validation.ValidateAsync("GET", "/me", _key.Proof("GET", Url, Now, claims: c => c["jti"] = "shared")));
        ShouldBeAccepted(await _validation.ValidateAsync("GET", "/me", other.Proof("GET", Url, Now, claims: c => c["jti"] = "shared")));
    }

    [Fact]
    public async Task A_jti_is_remembered_until_its_proof_could_no_longer_pass_the_iat_check()
    {
        var made = Now;
        ShouldBeAccepted(await _validation.ValidateAsync("GET", "/me", _key.Proof("GET", Url, made, claims: c => c["jti"] = "kept")));

        // Up to iat + 60 s the proof itself would still pass, so its jti is refused …
        _validation.Clock.Advance(TimeSpan.FromSeconds(60));
        ShouldBeRefused(await _validation.ValidateAsync("GET", "/me", _key.Proof("GET", Url, Now, claims: c => c["jti"] = "kept")), "already used");
        ShouldBeRefused(await _validation.ValidateAsync("GET", "/me", _key.Proof("GET", Url, made, claims: c => c["jti"] = "kept")), "already used");

        // … after that the old proof fails on its iat, and the entry is stale.
        _validation.Clock.Advance(TimeSpan.FromSeconds(1));
        ShouldBeRefused(await _validation.ValidateAsync("GET", "/me", _key.Proof("GET", Url, made, claims: c => c["jti"] = "kept")), "iat");
        ShouldBeAccepted(await _validation.ValidateAsync("GET", "/me", _key.Proof("GET", Url, Now, claims: c => c["jti"] = "kept")));
    }

    [Fact]
    public async Task A_full_replay_cache_of_live_proofs_refuses_new_ones_until_they_expire()
    {
        using var small = new Validation(o => o.ReplayCacheSize = 2);

        ShouldBeAccepted(await small.ValidateAsync("GET", "/me", _key.Proof("GET", Url, small.Now)));
        ShouldBeAccepted(await small.ValidateAsync("GET", "/me", _key.Proof("GET", Url, small.Now)));
        ShouldBeRefused(await small.ValidateAsync("GET", "/me", _key.Proof("GET", Url, small.Now)), "Too many DPoP proofs");
        small.Get<DpopReplayCache>().Count.ShouldBe(2);

        small.Clock.Advance(TimeSpan.FromSeconds(61));
        ShouldBeAccepted(await small.ValidateAsync("GET", "/me", _key.Proof("GET", Url, small.Now)));
        small.Get<DpopReplayCache>().Count.ShouldBe(1);
    }

    [Fact]
    public async Task A_refused_proof_uses_no_place_in_the_replay_cache()
    {
        using var small = new Validation(o => o.ReplayCacheSize = 1);

        ShouldBeRefused(await small.ValidateAsync("GET", "/me", _key.Proof("POST", Url, small.Now)), "htm");
        ShouldBeRefused(await small.ValidateAsync("GET", "/me", _key.Proof("GET", Url, small.Now), AccessToken), "ath");

        small.Get<DpopReplayCache>().Count.ShouldBe(0);
        ShouldBeAccepted(await small.ValidateAsync("GET", "/me", _key.Proof("GET", Url, small.Now)));
    }

    // ---- Nonces (RFC 9449 §8), as the authorization server requires them ----

    [Fact]
    public async Task When_nonces_are_required_a_proof_without_one_is_answered_nonce_missing()
    {
        using var server = new Validation(o => o.RequireNonce = true);

        var result = await server.ValidateAsync("POST", "/token", _key.Proof("POST", Validation.Origin + "/token", server.Now));

        result.Proof.ShouldBeNull();
        result.NonceMissing.ShouldBeTrue();
        result.Error.ShouldBe("A DPoP nonce is required.");
    }

    [Fact]
    public async Task When_nonces_are_required_a_current_one_is_accepted_and_a_made_up_one_is_not()
    {
        using var server = new Validation(o => o.RequireNonce = true);
        var htu = Validation.Origin + "/token";

        var madeUp = await server.ValidateAsync("POST", "/token", _key.Proof("POST", htu, server.Now, nonce: "made-up"));
        madeUp.NonceMissing.ShouldBeTrue();
        madeUp.Error.ShouldBe("The DPoP nonce is not valid any more.");

        ShouldBeAccepted(await server.ValidateAsync("POST", "/token", _key.Proof("POST", htu, server.Now, nonce: server.Validator.CurrentNonce())));
    }

    [Fact]
    public async Task A_proof_that_fails_on_its_own_is_refused_before_its_nonce_is_asked_for()
    {
        using var server = new Validation(o => o.RequireNonce = true);

        // A retry with a nonce would not help this proof, so the client is told what is really wrong.
        ShouldBeRefused(await server.ValidateAsync("POST", "/token", _key.Proof("GET", Validation.Origin + "/token", server.Now)), "htm");
    }

    public void Dispose()
    {
        _key.Dispose();
        _validation.Dispose();
    }
}
