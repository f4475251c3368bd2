using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using AuthServer.Tests.Infrastructure;

namespace AuthServer.Tests.Tokens;

/// <summary>
/// DPoP (RFC 9449) end to end: a proof (or <c>dpop_jkt</c>) on the device authorization request binds the login
/// request, its polls, its push stream, its tokens and its refresh tokens to the screen's key; every proof rule has a
/// positive and a negative case; protected resources take <c>Authorization: DPoP</c> with a proof bound to the token.
/// </summary>
public sealed class DpopTests(AuthServerFactory factory) : IClassFixture<AuthServerFactory>
{
    private readonly HttpClient _http = factory.CreateClient();

    private DpopKey NewKey() => DpopKey.Ec(factory.Clock);

    private string Url(string path) => DpopKey.Url(_http, path);

    /// <summary>The claims of a JWT, decoded by hand.</summary>
    private static JsonElement Payload(string jwt)
    {
        var part = jwt.Split('.')[1].Replace('-', '+').Replace('_', '/');
        part = part.PadRight(part.Length + (4 - part.Length % 4) % 4, '=');
        return JsonDocument.Parse(Convert.FromBase64String(part)).RootElement.Clone();
    }

    /// <summary>A form POST carrying exactly the given DPoP header values (none, one, or several).</summary>
    private async Task<Infrastructure.Protocol.Answer> PostWithProofsAsync(string path, string[] proofs, params (string Key, string Value)[] form)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path)
        {
            Content = new FormUrlEncodedContent(form.Select(p => new KeyValuePair<string, string>(p.Key, p.Value))),
        };
        if (proofs.Length > 0) request.Headers.TryAddWithoutValidation(DpopKey.Header, proofs);
        return await Infrastructure.Protocol.ReadAsync(await _http.SendAsync(request));
    }

    /// <summary><c>POST /connect/device</c> with one hand-made proof: the cheapest request that validates a proof.</summary>
    private Task<Infrastructure.Protocol.Answer> StartWithProofAsync(string proof, string path = "/connect/device") =>
        PostWithProofsAsync(path, [proof], ("client_id", "demo-tv"), ("scope", Infrastructure.Protocol.DemoScopes));

    /// <summary>A nonce, obtained as a client does: a proof without one is answered use_dpop_nonce with a DPoP-Nonce.</summary>
    private async Task<string> FreshNonceAsync()
    {
        using var key = NewKey();
        var answer = await StartWithProofAsync(key.Proof("POST", Url("/connect/device")));
        answer.Error.ShouldBe("use_dpop_nonce");
        return DpopKey.NonceOf(answer.Response).ShouldNotBeNull();
    }

    private static void ShouldBeInvalidProof(Infrastructure.Protocol.Answer answer)
    {
        answer.Status.ShouldBe(HttpStatusCode.BadRequest, $"body: {answer.Json}");
        answer.Error.ShouldBe("invalid_dpop_proof");
        answer.Get("error_description").ShouldNotBeNullOrWhiteSpace();
        answer.Response.Headers.CacheControl!.NoStore.ShouldBeTrue();
    }

    private static void ShouldBeStarted(Infrastructure.Protocol.Answer answer)
    {
        answer.Status.ShouldBe(HttpStatusCode.OK, $"body: {answer.Json}");
        answer.Get("device_code").ShouldNotBeNullOrEmpty();
        answer.Get("user_code").ShouldNotBeNullOrEmpty();
    }

    /// <summary>A device login bound to <paramref name="key"/>, approved and redeemed with proofs from it.</summary>
    private async Task<Infrastructure.Protocol.Answer> SignInBoundAsync(DpopKey key, string scope = Infrastructure.Protocol.DemoScopes)
    {
        var started = await key.StartAsync(_http, scope: scope);
        ShouldBeStarted(started);
        await factory.DecideAsDemoUserAsync(started.Get("user_code"), approve: true);
        var tokens = await key.PollAsync(_http, started.Get("device_code"));
        tokens.Status.ShouldBe(HttpStatusCode.OK, $"body: {tokens.Json}");
        return tokens;
    }

    private static void ShouldBeBoundTo(Infrastructure.Protocol.Answer tokens, DpopKey key)
    {
        tokens.Get("token_type").ShouldBe("DPoP");
        var cnf = Payload(tokens.Get("access_token")).GetProperty("cnf");
        cnf.GetProperty("jkt").GetString().ShouldBe(key.Jkt);
    }

    // ---- A bound device flow ----

    [Fact]
    public async Task A_proof_on_the_device_authorization_request_binds_polling_and_redemption_to_that_key()
    {
        using var key = NewKey();
        using var other = NewKey();
        var started = await key.StartAsync(_http);
        ShouldBeStarted(started);
        key.NonceRetries.ShouldBe(1, "the first proof carries no nonce and is answered use_dpop_nonce");
        var deviceCode = started.Get("device_code");

        ShouldBeInvalidProof(await _http.PollAsync(deviceCode));
        ShouldBeInvalidProof(await other.PollAsync(_http, deviceCode));
        var pending = await key.PollAsync(_http, deviceCode);
        pending.Status.ShouldBe(HttpStatusCode.BadRequest);
        pending.Error.ShouldBe("authorization_pending");

        await factory.DecideAsDemoUserAsync(started.Get("user_code"), approve: true);
        // A leaked device code is useless without the key, even after approval, and the attempt does not redeem it.
        ShouldBeInvalidProof(await _http.PollAsync(deviceCode));
        ShouldBeInvalidProof(await other.PollAsync(_http, deviceCode));
        var tokens = await key.PollAsync(_http, deviceCode);

        tokens.Status.ShouldBe(HttpStatusCode.OK, $"body: {tokens.Json}");
        ShouldBeBoundTo(tokens, key);
        tokens.Get("refresh_token").ShouldNotBeNullOrEmpty();
        tokens.Response.Headers.CacheControl!.NoStore.ShouldBeTrue();
        DpopKey.NonceOf(tokens.Response).ShouldNotBeNullOrEmpty("a successful DPoP request gets the nonce for its next proof");
    }

    [Fact]
    public async Task The_thumbprint_in_cnf_is_the_RFC_7638_thumbprint_computed_independently()
    {
        using var key = NewKey();

        var tokens = await SignInBoundAsync(key);

        // The header's jwk members are not in canonical order: the server must not hash them as sent.
        var jkt = Payload(tokens.Get("access_token")).GetProperty("cnf").GetProperty("jkt").GetString();
        jkt.ShouldBe(key.Jkt);
        jkt!.Length.ShouldBe(43);
    }

    [Fact]
    public async Task A_bound_refresh_token_needs_a_proof_from_the_same_key()
    {
        using var key = NewKey();
        using var other = NewKey();
        var tokens = await SignInBoundAsync(key);
        var refreshToken = tokens.Get("refresh_token");

        ShouldBeInvalidProof(await _http.RefreshAsync(refreshToken));
        ShouldBeInvalidProof(await other.RefreshAsync(_http, refreshToken));
        var refreshed = await key.RefreshAsync(_http, refreshToken);

        refreshed.Status.ShouldBe(HttpStatusCode.OK, $"body: {refreshed.Json}");
        ShouldBeBoundTo(refreshed, key);
        // The successor is bound too.
        var successor = refreshed.Get("refresh_token");
        ShouldBeInvalidProof(await _http.RefreshAsync(successor));
        var again = await key.RefreshAsync(_http, successor);
        again.Status.ShouldBe(HttpStatusCode.OK, $"body: {again.Json}");
        ShouldBeBoundTo(again, key);
    }

    [Fact]
    public async Task The_dpop_jkt_parameter_binds_the_request_without_a_proof()
    {
        using var key = DpopKey.Rsa(factory.Clock);
        using var other = NewKey();

        var started = await _http.PostFormAsync("/connect/device",
            ("client_id", "demo-tv"), ("scope", Infrastructure.Protocol.DemoScopes), ("dpop_jkt", key.Jkt));

        ShouldBeStarted(started);
        var deviceCode = started.Get("device_code");
        ShouldBeInvalidProof(await _http.PollAsync(deviceCode));
        ShouldBeInvalidProof(await other.PollAsync(_http, deviceCode));
        (await key.PollAsync(_http, deviceCode)).Error.ShouldBe("authorization_pending");

        await factory.DecideAsDemoUserAsync(started.Get("user_code"), approve: true);
        var tokens = await key.PollAsync(_http, deviceCode);

        tokens.Status.ShouldBe(HttpStatusCode.OK, $"body: {tokens.Json}");
        ShouldBeBoundTo(tokens, key);
        ShouldBeInvalidProof(await _http.RefreshAsync(tokens.Get("refresh_token")));
    }

    [Fact]
    public async Task A_dpop_jkt_that_does_not_match_the_proofs_key_is_invalid_dpop_proof()
    {
        using var key = NewKey();
        using var other = NewKey();

        var answer = await key.StartAsync(_http, dpopJkt: other.Jkt);

        ShouldBeInvalidProof(answer);
    }

    [Fact]
    public async Task A_dpop_jkt_that_matches_the_proofs_key_is_accepted()
    {
        using var key = NewKey();

        var answer = await key.StartAsync(_http, dpopJkt: key.Jkt);

        ShouldBeStarted(answer);
    }

    [Fact]
    public async Task A_dpop_jkt_that_is_not_a_thumbprint_is_invalid_request()
    {
        var answer = await _http.PostFormAsync("/connect/device",
            ("client_id", "demo-tv"), ("scope", Infrastructure.Protocol.DemoScopes), ("dpop_jkt", "not-a-thumbprint"));

        answer.Status.ShouldBe(HttpStatusCode.BadRequest);
        answer.Error.ShouldBe("invalid_request");
    }

    [Fact]
    public async Task Superseding_a_bound_request_needs_a_proof_from_its_key()
    {
        using var key = NewKey();
        var started = await key.StartAsync(_http);
        ShouldBeStarted(started);
        var deviceCode = started.Get("device_code");

        // Someone who learned the device code, but has no key, names it as the request a new one replaces.
        var hijack = await _http.PostFormAsync("/connect/device",
            ("client_id", "demo-tv"), ("scope", Infrastructure.Protocol.DemoScopes), ("superseded_device_code", deviceCode));

        ShouldBeInvalidProof(hijack);
        (await key.PollAsync(_http, deviceCode)).Error.ShouldBe("authorization_pending", "the screen's own request must live on");
    }

    [Fact]
    public async Task The_screen_itself_may_supersede_its_bound_request_with_a_proof_from_its_key()
    {
        using var key = NewKey();
        var first = await key.StartAsync(_http);
        ShouldBeStarted(first);

        var second = await key.PostFormAsync(_http, "/connect/device",
            ("client_id", "demo-tv"), ("scope", Infrastructure.Protocol.DemoScopes), ("superseded_device_code", first.Get("device_code")));

        ShouldBeStarted(second);
        (await key.PollAsync(_http, first.Get("device_code"))).Error.ShouldBe("expired_token");
        (await key.PollAsync(_http, second.Get("device_code"))).Error.ShouldBe("authorization_pending");
    }

    [Fact]
    public async Task An_unbound_request_stays_unbound_and_gets_bearer_tokens()
    {
        var tokens = await factory.SignInDeviceAsync();

        tokens.Get("token_type").ShouldBe("Bearer");
        Payload(tokens.Get("access_token")).TryGetProperty("cnf", out _).ShouldBeFalse();
    }

    [Fact]
    public async Task The_push_stream_of_a_bound_request_needs_a_proof_from_its_key()
    {
        using var key = NewKey();
        using var other = NewKey();
        var started = await key.StartAsync(_http);
        ShouldBeStarted(started);
        var deviceCode = started.Get("device_code");

        using var withoutProof = await EventStream.SendAsync(_http, EventStream.Request(deviceCode));
        var refused = await Infrastructure.Protocol.ReadAsync(withoutProof);
        ShouldBeInvalidProof(refused);

        var otherKey = await Infrastructure.Protocol.ReadAsync(await other.SendAsync(_http, () => EventStream.Request(deviceCode)));
        ShouldBeInvalidProof(otherKey);

        using var stream = await key.SendAsync(_http, () => EventStream.Request(deviceCode), completion: HttpCompletionOption.ResponseHeadersRead);
        stream.StatusCode.ShouldBe(HttpStatusCode.OK);
        stream.Content.Headers.ContentType!.MediaType.ShouldBe("text/event-stream");
        using var reader = new StreamReader(await stream.Content.ReadAsStreamAsync());
        using var timeout = new CancellationTokenSource(EventStream.ReadTimeout);
        (await reader.ReadLineAsync(timeout.Token)).ShouldBe("event: pending");
    }

    // ---- Nonces (RFC 9449 §8) ----

    [Fact]
    public async Task A_first_proof_without_a_nonce_is_answered_use_dpop_nonce_with_a_nonce_to_retry_with()
    {
        using var key = NewKey();

        var first = await StartWithProofAsync(key.Proof("POST", Url("/connect/device")));

        first.Status.ShouldBe(HttpStatusCode.BadRequest);
        first.Error.ShouldBe("use_dpop_nonce");
        first.Response.Headers.CacheControl!.NoStore.ShouldBeTrue();
        var nonce = DpopKey.NonceOf(first.Response);
        nonce.ShouldNotBeNullOrEmpty();

        var retry = await StartWithProofAsync(key.Proof("POST", Url("/connect/device"), nonce));

        ShouldBeStarted(retry);
        DpopKey.NonceOf(retry.Response).ShouldNotBeNullOrEmpty();
    }

    [Fact]
    public async Task A_made_up_nonce_is_answered_use_dpop_nonce()
    {
        using var key = NewKey();

        var answer = await StartWithProofAsync(key.Proof("POST", Url("/connect/device"), nonce: "made-up-nonce"));

        answer.Status.ShouldBe(HttpStatusCode.BadRequest);
        answer.Error.ShouldBe("use_dpop_nonce");
        DpopKey.NonceOf(answer.Response).ShouldNotBeNullOrEmpty();
    }

    [Fact]
    public async Task A_nonce_from_the_previous_window_is_still_accepted()
    {
        using var key = NewKey();
        var nonce = await FreshNonceAsync();
        factory.Clock.Advance(TimeSpan.FromMinutes(5));

        var answer = await StartWithProofAsync(key.Proof("POST", Url("/connect/device"), nonce));

        ShouldBeStarted(answer);
    }

    [Fact]
    public async Task A_nonce_from_two_windows_ago_is_answered_use_dpop_nonce_again_with_a_new_nonce()
    {
        using var key = NewKey();
        var old = await FreshNonceAsync();
        factory.Clock.Advance(TimeSpan.FromMinutes(11));

        var stale = await StartWithProofAsync(key.Proof("POST", Url("/connect/device"), old));

        stale.Status.ShouldBe(HttpStatusCode.BadRequest);
        stale.Error.ShouldBe("use_dpop_nonce");
        var fresh = DpopKey.NonceOf(stale.Response);
        fresh.ShouldNotBeNullOrEmpty();
        fresh.ShouldNotBe(old);
        ShouldBeStarted(await StartWithProofAsync(key.Proof("POST", Url("/connect/device"), fresh)));
    }

    // ---- The proof's own rules (RFC 9449 §4.3) ----

    [Fact]
    public async Task A_well_formed_ES256_proof_is_accepted()
    {
        using var key = NewKey();

        ShouldBeStarted(await StartWithProofAsync(key.Proof("POST", Url("/connect/device"), await FreshNonceAsync())));
    }

    [Fact]
    public async Task A_well_formed_RS256_proof_is_accepted()
    {
        using var key = DpopKey.Rsa(factory.Clock);

        ShouldBeStarted(await StartWithProofAsync(key.Proof("POST", Url("/connect/device"), await FreshNonceAsync())));
    }

    [Theory]
    [InlineData("jwt")]
    [InlineData("JWT")]
    [InlineData("at+jwt")]
    [InlineData(null)]
    public async Task A_proof_whose_typ_is_not_dpop_jwt_is_invalid(string? typ)
    {
        using var key = NewKey();

        ShouldBeInvalidProof(await StartWithProofAsync(key.Proof("POST", Url("/connect/device"), await FreshNonceAsync(), typ: typ)));
    }

    [Theory]
    [InlineData("none")]
    [InlineData("HS256")]
    public async Task A_proof_with_no_or_a_symmetric_alg_is_invalid(string alg)
    {
        using var key = NewKey();

        ShouldBeInvalidProof(await StartWithProofAsync(key.Proof("POST", Url("/connect/device"), await FreshNonceAsync(), alg: alg)));
    }

    [Fact]
    public async Task A_proof_whose_jwk_carries_the_private_key_is_invalid()
    {
        using var ec = NewKey();
        using var rsa = DpopKey.Rsa(factory.Clock);

        ShouldBeInvalidProof(await StartWithProofAsync(ec.Proof("POST", Url("/connect/device"), await FreshNonceAsync(), includePrivate: true)));
        ShouldBeInvalidProof(await StartWithProofAsync(rsa.Proof("POST", Url("/connect/device"), await FreshNonceAsync(), includePrivate: true)));
    }

    [Fact]
    public async Task A_proof_signed_by_another_key_than_its_jwk_is_invalid()
    {
        using var signer = NewKey();
        using var named = NewKey();

        var answer = await StartWithProofAsync(signer.Proof("POST", Url("/connect/device"), await FreshNonceAsync(), jwkOverride: named.PublicJwk()));

        ShouldBeInvalidProof(answer);
    }

    [Fact]
    public async Task A_proof_whose_jwk_is_a_symmetric_key_is_invalid()
    {
        using var key = NewKey();
        var symmetric = new System.Text.Json.Nodes.JsonObject { ["kty"] = "oct", ["k"] = "c2VjcmV0LWtleS1tYXRlcmlhbC0wMTIzNDU2Nzg5YWJj" };

        ShouldBeInvalidProof(await StartWithProofAsync(key.Proof("POST", Url("/connect/device"), await FreshNonceAsync(), jwkOverride: symmetric)));
    }

    [Fact]
    public async Task A_proof_for_another_method_is_invalid()
    {
        using var key = NewKey();

        ShouldBeInvalidProof(await StartWithProofAsync(key.Proof("GET", Url("/connect/device"), await FreshNonceAsync())));
    }

    [Theory]
    [InlineData("http://localhost/connect/token")]
    [InlineData("http://localhost/connect/device/events")]
    [InlineData("http://attacker.example/connect/device")]
    [InlineData("https://localhost/connect/device")]
    [InlineData("/connect/device")]
    public async Task A_proof_for_another_URI_is_invalid(string htu)
    {
        using var key = NewKey();

        ShouldBeInvalidProof(await StartWithProofAsync(key.Proof("POST", htu, await FreshNonceAsync())));
    }

    [Fact]
    public async Task The_query_string_is_ignored_when_comparing_htu()
    {
        using var key = NewKey();

        // The request has a query, the proof none; then the proof has one the request lacks.
        ShouldBeStarted(await StartWithProofAsync(key.Proof("POST", Url("/connect/device"), await FreshNonceAsync()), "/connect/device?x=1"));
        ShouldBeStarted(await StartWithProofAsync(key.Proof("POST", Url("/connect/device") + "?y=2", await FreshNonceAsync())));
    }

    [Fact]
    public async Task The_scheme_and_host_of_htu_compare_case_insensitively()
    {
        using var key = NewKey();

        ShouldBeStarted(await StartWithProofAsync(key.Proof("POST", "HTTP://LOCALHOST/connect/device", await FreshNonceAsync())));
    }

    [Theory]
    [InlineData(-120)]
    [InlineData(120)]
    [InlineData(-3600)]
    public async Task A_proof_made_too_long_before_or_after_now_is_invalid(int seconds)
    {
        using var key = NewKey();
        var iat = factory.Clock.GetUtcNow().AddSeconds(seconds);

        ShouldBeInvalidProof(await StartWithProofAsync(key.Proof("POST", Url("/connect/device"), await FreshNonceAsync(), iat: iat)));
    }

    [Theory]
    [InlineData(-50)]
    [InlineData(50)]
    public async Task A_proof_made_within_the_minute_either_side_is_accepted(int seconds)
    {
        using var key = NewKey();
        var iat = factory.Clock.GetUtcNow().AddSeconds(seconds);

        ShouldBeStarted(await StartWithProofAsync(key.Proof("POST", Url("/connect/device"), await FreshNonceAsync(), iat: iat)));
    }

    [Fact]
    public async Task A_replayed_proof_is_invalid_the_second_time()
    {
        using var key = NewKey();
        var proof = key.Proof("POST", Url("/connect/device"), await FreshNonceAsync());

        ShouldBeStarted(await StartWithProofAsync(proof));
        ShouldBeInvalidProof(await StartWithProofAsync(proof));
    }

    [Fact]
    public async Task A_new_proof_reusing_a_jti_is_invalid()
    {
        using var key = NewKey();
        var nonce = await FreshNonceAsync();

        ShouldBeStarted(await StartWithProofAsync(key.Proof("POST", Url("/connect/device"), nonce, jti: "the-same-jti")));
        factory.Clock.Advance(TimeSpan.FromSeconds(1));
        ShouldBeInvalidProof(await StartWithProofAsync(key.Proof("POST", Url("/connect/device"), nonce, jti: "the-same-jti")));
    }

    [Fact]
    public async Task A_replay_cache_full_of_live_proofs_refuses_new_ones_instead_of_growing()
    {
        using var small = AuthServerFactory.With(new() { ["Dpop:ReplayCacheSize"] = "1" });
        var http = small.CreateClient();
        using var first = DpopKey.Ec(small.Clock);
        using var second = DpopKey.Ec(small.Clock);

        ShouldBeStarted(await first.StartAsync(http));
        var refused = await second.StartAsync(http);

        ShouldBeInvalidProof(refused);
        refused.Get("error_description").ShouldContain("Too many DPoP proofs");
        // Once the first proof could no longer pass its iat check, its place is free again.
        small.Clock.Advance(TimeSpan.FromSeconds(61));
        ShouldBeStarted(await second.StartAsync(http));
    }

    [Fact]
    public async Task Two_DPoP_headers_are_invalid()
    {
        using var key = NewKey();
        var nonce = await FreshNonceAsync();

        var answer = await PostWithProofsAsync("/connect/device",
            [key.Proof("POST", Url("/connect/device"), nonce), key.Proof("POST", Url("/connect/device"), nonce)],
            ("client_id", "demo-tv"), ("scope", Infrastructure.Protocol.DemoScopes));

        ShouldBeInvalidProof(answer);
    }

    [Fact]
    public async Task A_DPoP_header_that_is_not_a_JWT_is_invalid()
    {
        ShouldBeInvalidProof(await StartWithProofAsync("not-a-jwt"));
    }

    [Fact]
    public async Task The_metadata_names_the_proof_algorithms_accepted()
    {
        var metadata = JsonDocument.Parse(await _http.GetStringAsync("/.well-known/openid-configuration")).RootElement;

        metadata.GetProperty("dpop_signing_alg_values_supported").EnumerateArray().Select(a => a.GetString())
            .ShouldBe(["ES256", "ES384", "RS256", "PS256"]);
    }

    [Fact]
    public async Task Narrowing_Dpop_Algorithms_narrows_the_metadata_and_the_proofs_accepted_alike()
    {
        using var narrow = AuthServerFactory.With(new() { ["Dpop:Algorithms:0"] = "ES256" });
        var http = narrow.CreateClient();
        using var rsa = DpopKey.Rsa(narrow.Clock);
        using var ec = DpopKey.Ec(narrow.Clock);

        var metadata = JsonDocument.Parse(await http.GetStringAsync("/.well-known/openid-configuration")).RootElement;
        metadata.GetProperty("dpop_signing_alg_values_supported").EnumerateArray().Select(a => a.GetString()).ShouldBe(["ES256"]);

        var refused = await rsa.StartAsync(http);
        ShouldBeInvalidProof(refused);
        refused.Get("error_description").ShouldContain("alg");
        ShouldBeStarted(await ec.StartAsync(http));
    }

    // ---- A client that must use DPoP ----

    [Fact]
    public async Task A_client_that_requires_DPoP_is_refused_without_a_proof_and_served_with_one()
    {
        using var strict = AuthServerFactory.With(new()
        {
            ["Clients:demo-tv:RequireDpop"] = "true",
            ["Clients:phone:RequireDpop"] = "true",
        });
        var http = strict.CreateClient();
        using var key = DpopKey.Ec(strict.Clock);

        // At the device authorization endpoint.
        ShouldBeInvalidProof(await http.StartAsync());
        ShouldBeStarted(await key.StartAsync(http));

        // At the token endpoint, for a grant that is not bound by itself: the phone's authorization code.
        var browser = strict.CreateBrowser();
        await browser.SignInAsync();
        var pkce = CodeFlow.Pkce.New();
        var code = await CodeFlow.GetCodeAsync(browser, "phone", CodeFlow.PhoneRedirect, pkce, PhoneApp.Scope);
        ShouldBeInvalidProof(await CodeFlow.RedeemAsync(http, "phone", code, CodeFlow.PhoneRedirect, pkce.Verifier));
        var tokens = await key.PostFormAsync(http, "/connect/token",
            ("grant_type", "authorization_code"), ("code", code), ("redirect_uri", CodeFlow.PhoneRedirect),
            ("code_verifier", pkce.Verifier), ("client_id", "phone"));

        tokens.Status.ShouldBe(HttpStatusCode.OK, $"body: {tokens.Json}");
        ShouldBeBoundTo(tokens, key);
        ShouldBeInvalidProof(await http.RefreshAsync(tokens.Get("refresh_token"), "phone"));

        // The phone API takes the bound token with a proof, and refuses it as a plain bearer token.
        var devices = await key.CallAsync(http, HttpMethod.Get, "/api/phone/devices", tokens.Get("access_token"));
        devices.Status.ShouldBe(HttpStatusCode.OK, $"body: {devices.Json}");
        devices.Json.ValueKind.ShouldBe(JsonValueKind.Array);
        var asBearer = await PhoneApp.SendAsync(http, HttpMethod.Get, "/api/phone/devices", tokens.Get("access_token"));
        asBearer.Status.ShouldBe(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task A_code_bound_with_dpop_jkt_at_authorize_is_redeemed_only_with_a_proof_from_that_key()
    {
        using var key = DpopKey.Ec(factory.Clock);
        using var other = DpopKey.Ec(factory.Clock);
        var browser = factory.CreateBrowser();
        await browser.SignInAsync();
        var pkce = CodeFlow.Pkce.New();
        // RFC 9449 §10: the code is bound before the client holds it.
        var code = await CodeFlow.GetCodeAsync(browser, "phone", CodeFlow.PhoneRedirect, pkce, PhoneApp.Scope, new() { ["dpop_jkt"] = key.Jkt });
        (string, string)[] redeem = [("grant_type", "authorization_code"), ("code", code), ("redirect_uri", CodeFlow.PhoneRedirect),
            ("code_verifier", pkce.Verifier), ("client_id", "phone")];

        ShouldBeInvalidProof(await CodeFlow.RedeemAsync(_http, "phone", code, CodeFlow.PhoneRedirect, pkce.Verifier));
        ShouldBeInvalidProof(await other.PostFormAsync(_http, "/connect/token", redeem));
        var tokens = await key.PostFormAsync(_http, "/connect/token", redeem);

        tokens.Status.ShouldBe(HttpStatusCode.OK, $"body: {tokens.Json}");
        ShouldBeBoundTo(tokens, key);
    }

    [Fact]
    public async Task A_dpop_jkt_at_authorize_that_is_not_a_thumbprint_is_refused()
    {
        var browser = factory.CreateBrowser();
        await browser.SignInAsync();
        var url = CodeFlow.AuthorizeUrl("phone", CodeFlow.PhoneRedirect, CodeFlow.Pkce.New(), PhoneApp.Scope, extra: new() { ["dpop_jkt"] = "short" });

        var landed = await browser.FollowUntilExternalAsync(url);

        CodeFlow.Query(landed)["error"].ShouldBe("invalid_request");
        CodeFlow.Query(landed).ShouldNotContainKey("code");
    }

    // ---- Protected resources (RFC 9449 §7) ----

    private async Task<Infrastructure.Protocol.Answer> UserinfoAsync(string scheme, string accessToken, params string[] proofs)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/connect/userinfo");
        request.Headers.Authorization = new AuthenticationHeaderValue(scheme, accessToken);
        if (proofs.Length > 0) request.Headers.TryAddWithoutValidation(DpopKey.Header, proofs);
        return await Infrastructure.Protocol.ReadAsync(await _http.SendAsync(request));
    }

    private static void ShouldBeRefusedWith(Infrastructure.Protocol.Answer answer, string scheme, string error)
    {
        answer.Status.ShouldBe(HttpStatusCode.Unauthorized, $"body: {answer.Json}");
        var challenge = answer.Response.Headers.WwwAuthenticate.ToString();
        challenge.ShouldStartWith(scheme + " ");
        challenge.ShouldContain($"error=\"{error}\"");
        answer.Error.ShouldBe(error);
    }

    [Fact]
    public async Task Userinfo_accepts_a_bound_token_with_the_DPoP_scheme_and_a_proof_carrying_ath()
    {
        using var key = NewKey();
        var tokens = await SignInBoundAsync(key);

        var answer = await key.CallAsync(_http, HttpMethod.Get, "/connect/userinfo", tokens.Get("access_token"));

        answer.Status.ShouldBe(HttpStatusCode.OK, $"body: {answer.Json}");
        answer.Get("sub").ShouldBe(Payload(tokens.Get("access_token")).GetProperty("sub").GetString());
        answer.Get("preferred_username").ShouldBe(AuthServerFactory.DemoEmail);
    }

    [Fact]
    public async Task Userinfo_asks_for_a_nonce_with_a_DPoP_challenge_when_the_proof_has_none()
    {
        using var key = NewKey();
        var token = (await SignInBoundAsync(key)).Get("access_token");

        var answer = await UserinfoAsync("DPoP", token, key.Proof("GET", Url("/connect/userinfo"), accessToken: token));

        ShouldBeRefusedWith(answer, "DPoP", "use_dpop_nonce");
        var nonce = DpopKey.NonceOf(answer.Response).ShouldNotBeNull();
        var retry = await UserinfoAsync("DPoP", token, key.Proof("GET", Url("/connect/userinfo"), nonce, accessToken: token));
        retry.Status.ShouldBe(HttpStatusCode.OK, $"body: {retry.Json}");
    }

    [Fact]
    public async Task Userinfo_refuses_a_proof_without_ath()
    {
        using var key = NewKey();
        var token = (await SignInBoundAsync(key)).Get("access_token");

        var answer = await UserinfoAsync("DPoP", token, key.Proof("GET", Url("/connect/userinfo"), key.Nonce));

        ShouldBeRefusedWith(answer, "DPoP", "invalid_dpop_proof");
    }

    [Fact]
    public async Task Userinfo_refuses_a_proof_whose_ath_is_for_another_token()
    {
        using var key = NewKey();
        var token = (await SignInBoundAsync(key)).Get("access_token");
        var another = (await SignInBoundAsync(key)).Get("access_token");

        var answer = await UserinfoAsync("DPoP", token, key.Proof("GET", Url("/connect/userinfo"), key.Nonce, accessToken: another));

        ShouldBeRefusedWith(answer, "DPoP", "invalid_dpop_proof");
    }

    [Fact]
    public async Task Userinfo_refuses_the_DPoP_scheme_without_a_proof()
    {
        using var key = NewKey();
        var token = (await SignInBoundAsync(key)).Get("access_token");

        var answer = await UserinfoAsync("DPoP", token);

        ShouldBeRefusedWith(answer, "DPoP", "invalid_dpop_proof");
    }

    [Fact]
    public async Task Userinfo_refuses_a_bound_token_sent_as_a_bearer_token()
    {
        using var key = NewKey();
        var token = (await SignInBoundAsync(key)).Get("access_token");

        var answer = await UserinfoAsync("Bearer", token);

        answer.Status.ShouldBe(HttpStatusCode.Unauthorized);
        answer.Error.ShouldBe("invalid_token");
        answer.Response.Headers.WwwAuthenticate.ToString().ShouldContain("error=\"invalid_token\"");
    }

    [Fact]
    public async Task Userinfo_refuses_a_bound_token_sent_in_the_POST_body()
    {
        using var key = NewKey();
        var token = (await SignInBoundAsync(key)).Get("access_token");

        var answer = await _http.PostFormAsync("/connect/userinfo", ("access_token", token));

        answer.Status.ShouldBe(HttpStatusCode.Unauthorized);
        answer.Error.ShouldBe("invalid_token");
    }

    [Fact]
    public async Task Userinfo_refuses_a_proof_from_another_key_than_the_token_is_bound_to()
    {
        using var key = NewKey();
        using var thief = NewKey();
        var token = (await SignInBoundAsync(key)).Get("access_token");

        var answer = await UserinfoAsync("DPoP", token, thief.Proof("GET", Url("/connect/userinfo"), key.Nonce, accessToken: token));

        ShouldBeRefusedWith(answer, "DPoP", "invalid_dpop_proof");
    }

    [Fact]
    public async Task Userinfo_refuses_a_proof_made_for_another_endpoint()
    {
        using var key = NewKey();
        var token = (await SignInBoundAsync(key)).Get("access_token");

        var answer = await UserinfoAsync("DPoP", token, key.Proof("POST", Url("/connect/userinfo"), key.Nonce, accessToken: token));

        ShouldBeRefusedWith(answer, "DPoP", "invalid_dpop_proof");
    }

    [Fact]
    public async Task Userinfo_refuses_an_unbound_token_presented_with_the_DPoP_scheme()
    {
        using var key = NewKey();
        var token = (await factory.SignInDeviceAsync()).Get("access_token");
        var nonce = await FreshNonceAsync();

        var answer = await UserinfoAsync("DPoP", token, key.Proof("GET", Url("/connect/userinfo"), nonce, accessToken: token));

        ShouldBeRefusedWith(answer, "DPoP", "invalid_token");
    }

    // ---- Browser apps (CORS) ----

    [Fact]
    public async Task A_browser_app_may_send_a_DPoP_header_across_origins()
    {
        using var preflight = new HttpRequestMessage(HttpMethod.Options, "/connect/token");
        preflight.Headers.Add("Origin", AuthServerFactory.WebAppOrigin);
        preflight.Headers.Add("Access-Control-Request-Method", "POST");
        preflight.Headers.Add("Access-Control-Request-Headers", "dpop");

        var response = await _http.SendAsync(preflight);

        response.IsSuccessStatusCode.ShouldBeTrue();
        response.Headers.GetValues("Access-Control-Allow-Origin").ShouldBe([AuthServerFactory.WebAppOrigin]);
        string.Join(",", response.Headers.GetValues("Access-Control-Allow-Headers")).ShouldContain("dpop", Case.Insensitive);
    }

    [Fact]
    public async Task A_browser_app_can_read_the_DPoP_nonce_it_is_asked_to_use()
    {
        using var key = NewKey();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/connect/device")
        {
            Content = new FormUrlEncodedContent([new("client_id", "demo-tv"), new("scope", "openid")]),
        };
        request.Headers.Add("Origin", AuthServerFactory.WebAppOrigin);
        request.Headers.TryAddWithoutValidation(DpopKey.Header, key.Proof("POST", Url("/connect/device")));

        var answer = await Infrastructure.Protocol.ReadAsync(await _http.SendAsync(request));

        answer.Error.ShouldBe("use_dpop_nonce");
        DpopKey.NonceOf(answer.Response).ShouldNotBeNullOrEmpty();
        answer.Response.Headers.GetValues("Access-Control-Allow-Origin").ShouldBe([AuthServerFactory.WebAppOrigin]);
        // Without this, a browser hides the header from the app, which can then never make an acceptable proof.
        answer.Response.Headers.TryGetValues("Access-Control-Expose-Headers", out var exposed).ShouldBeTrue("no headers are exposed");
        exposed!.SelectMany(v => v.Split(',', StringSplitOptions.TrimEntries)).ShouldContain(h => h.Equals("DPoP-Nonce", StringComparison.OrdinalIgnoreCase),
            "the DPoP-Nonce response header must be exposed to browser apps");
    }

    // ---- Metadata ----

    [Fact]
    public async Task Discovery_advertises_the_DPoP_signing_algorithms()
    {
        foreach (var path in new[] { "/.well-known/oauth-authorization-server", "/.well-known/openid-configuration" })
        {
            var response = await _http.GetAsync(path);
            response.StatusCode.ShouldBe(HttpStatusCode.OK);
            using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
            var algs = json.RootElement.GetProperty("dpop_signing_alg_values_supported").EnumerateArray().Select(a => a.GetString()).ToList();
            algs.ShouldContain("ES256");
            algs.ShouldContain("RS256");
            algs.ShouldNotContain("none");
            algs.ShouldNotContain("HS256");
        }
    }
}
