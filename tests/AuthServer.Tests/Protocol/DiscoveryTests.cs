using System.Net;
using System.Text.Json;
using AuthServer.Tests.Infrastructure;

namespace AuthServer.Tests.Protocol;

public sealed class DiscoveryTests(AuthServerFactory factory) : IClassFixture<AuthServerFactory>
{
    private readonly HttpClient _http = factory.CreateClient();

    [Theory]
    [InlineData("/.well-known/oauth-authorization-server")]
    [InlineData("/.well-known/openid-configuration")]
    public async Task Metadata_advertises_the_endpoints_and_capabilities_that_exist(string path)
    {
        var response = await _http.GetAsync(path);
        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;

        doc.GetProperty("issuer").GetString().ShouldBe("http://localhost/");
        doc.GetProperty("authorization_endpoint").GetString().ShouldBe("http://localhost/connect/authorize");
        doc.GetProperty("device_authorization_endpoint").GetString().ShouldBe("http://localhost/connect/device");
        doc.GetProperty("token_endpoint").GetString().ShouldBe("http://localhost/connect/token");
        doc.GetProperty("jwks_uri").GetString().ShouldBe("http://localhost/.well-known/jwks");
        doc.GetProperty("userinfo_endpoint").GetString().ShouldBe("http://localhost/connect/userinfo");
        doc.GetProperty("end_session_endpoint").GetString().ShouldBe("http://localhost/connect/endsession");
        Strings(doc, "grant_types_supported").ShouldBe(
            ["authorization_code", "urn:ietf:params:oauth:grant-type:device_code", "refresh_token", "client_credentials"], ignoreOrder: true);
        Strings(doc, "token_endpoint_auth_methods_supported").ShouldBe(
            ["client_secret_basic", "client_secret_post", "private_key_jwt", "none"], ignoreOrder: true);
        Strings(doc, "scopes_supported").ShouldContain("offline_access");
        Strings(doc, "scopes_supported").ShouldContain("openid");
        // RS256 is the default (OIDC Discovery §3 requires it); ES256 for clients registered with it.
        Strings(doc, "id_token_signing_alg_values_supported").ShouldBe(["RS256", "ES256"]);
        Strings(doc, "subject_types_supported").ShouldNotBeEmpty();
    }

    [Theory]
    [InlineData("/.well-known/oauth-authorization-server")]
    [InlineData("/.well-known/openid-configuration")]
    public async Task Metadata_offers_the_code_flow_with_PKCE_S256_only(string path)
    {
        var doc = JsonDocument.Parse(await _http.GetStringAsync(path)).RootElement;

        Strings(doc, "response_types_supported").ShouldBe(["code"]);
        Strings(doc, "response_modes_supported").ShouldBe(["query"]);
        Strings(doc, "code_challenge_methods_supported").ShouldBe(["S256"]);
        doc.GetProperty("authorization_response_iss_parameter_supported").GetBoolean().ShouldBeTrue();
    }

    [Fact]
    public async Task Metadata_names_no_endpoint_that_does_not_exist()
    {
        var doc = JsonDocument.Parse(await _http.GetStringAsync("/.well-known/openid-configuration")).RootElement;

        // Not built yet: advertising them would send clients to a 404.
        foreach (var absent in new[] { "registration_endpoint", "pushed_authorization_request_endpoint" })
            doc.TryGetProperty(absent, out _).ShouldBeFalse(absent);

        // Every advertised endpoint answers, with the method a client would use, something other than 404.
        var advertised = doc.EnumerateObject()
            .Where(p => p.Name.EndsWith("_endpoint", StringComparison.Ordinal) || p.Name == "jwks_uri")
            .ToDictionary(p => p.Name, p => p.Value.GetString()!);
        advertised.Keys.ShouldBe(
            ["authorization_endpoint", "token_endpoint", "device_authorization_endpoint", "device_authorization_events_endpoint",
                "jwks_uri", "userinfo_endpoint", "end_session_endpoint", "revocation_endpoint", "introspection_endpoint"],
            ignoreOrder: true);
        var noRedirects = factory.CreateBrowser();
        foreach (var (member, url) in advertised)
        {
            var response = member is "token_endpoint" or "device_authorization_endpoint" or "device_authorization_events_endpoint"
                    or "revocation_endpoint" or "introspection_endpoint"
                ? await noRedirects.PostAsync(url, new FormUrlEncodedContent([]))
                : await noRedirects.GetAsync(url);
            response.StatusCode.ShouldNotBe(HttpStatusCode.NotFound, member);
            response.StatusCode.ShouldNotBe(HttpStatusCode.MethodNotAllowed, member);
        }
    }

    [Theory]
    [InlineData("/connect/device")]
    [InlineData("/CONNECT/Device")]
    [InlineData("/connect/device/")]
    public async Task An_endpoint_path_matches_whatever_its_case_and_one_trailing_slash(string path)
    {
        // OpenIddict's rule, kept by the table of paths that replaces its endpoint inference (EndpointHandlers).
        var answer = await _http.PostFormAsync(path, ("client_id", "demo-tv"), ("scope", "openid"));

        answer.Status.ShouldBe(HttpStatusCode.OK);
        answer.Get("user_code").ShouldNotBeNullOrEmpty();
    }

    [Theory]
    [InlineData("/connect/device//")]
    [InlineData("/connect/devices")]
    [InlineData("/connect")]
    public async Task A_path_that_only_resembles_an_endpoint_is_not_one(string path)
    {
        var response = await _http.PostAsync(path, new FormUrlEncodedContent([new("client_id", "demo-tv")]));

        // Not OpenIddict's: routing answers (no page takes a POST there).
        response.StatusCode.ShouldBeOneOf(HttpStatusCode.NotFound, HttpStatusCode.MethodNotAllowed);
        (await response.Content.ReadAsStringAsync()).ShouldNotContain("user_code");
    }

    [Fact]
    public async Task A_configured_issuer_is_used_instead_of_the_request_origin()
    {
        using var configured = AuthServerFactory.With(new() { ["AuthServer:Issuer"] = "https://login.example.com" });
        var doc = JsonDocument.Parse(await configured.CreateClient().GetStringAsync("/.well-known/oauth-authorization-server")).RootElement;

        doc.GetProperty("issuer").GetString().ShouldBe("https://login.example.com/");
        doc.GetProperty("token_endpoint").GetString().ShouldBe("https://login.example.com/connect/token");
        doc.GetProperty("authorization_endpoint").GetString().ShouldBe("https://login.example.com/connect/authorize");
        doc.GetProperty("end_session_endpoint").GetString().ShouldBe("https://login.example.com/connect/endsession");
    }

    private static string[] Strings(JsonElement doc, string name) =>
        doc.GetProperty(name).EnumerateArray().Select(e => e.GetString()!).ToArray();
}
