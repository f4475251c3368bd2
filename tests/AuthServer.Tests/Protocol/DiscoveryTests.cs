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

        doc.GetProperty("issuer").GetString().ShouldBe("http://localhost");
        doc.GetProperty("device_authorization_endpoint").GetString().ShouldBe("http://localhost/connect/device");
        doc.GetProperty("token_endpoint").GetString().ShouldBe("http://localhost/connect/token");
        doc.GetProperty("jwks_uri").GetString().ShouldBe("http://localhost/.well-known/jwks");
        doc.GetProperty("userinfo_endpoint").GetString().ShouldBe("http://localhost/connect/userinfo");
        Strings(doc, "grant_types_supported").ShouldBe(["urn:ietf:params:oauth:grant-type:device_code", "refresh_token"], ignoreOrder: true);
        Strings(doc, "token_endpoint_auth_methods_supported").ShouldBe(["client_secret_basic", "client_secret_post", "none"], ignoreOrder: true);
        Strings(doc, "scopes_supported").ShouldContain("offline_access");
        Strings(doc, "id_token_signing_alg_values_supported").ShouldBe(["RS256"]);
        Strings(doc, "response_types_supported").ShouldBeEmpty();
    }

    [Fact]
    public async Task Metadata_names_no_endpoint_that_does_not_exist()
    {
        var doc = JsonDocument.Parse(await _http.GetStringAsync("/.well-known/openid-configuration")).RootElement;

        foreach (var absent in new[] { "authorization_endpoint", "revocation_endpoint", "introspection_endpoint", "end_session_endpoint" })
            doc.TryGetProperty(absent, out _).ShouldBeFalse(absent);

        // Every advertised endpoint answers something other than 404.
        foreach (var member in new[] { "device_authorization_endpoint", "token_endpoint", "jwks_uri", "userinfo_endpoint" })
        {
            var response = await _http.PostAsync(doc.GetProperty(member).GetString(), new FormUrlEncodedContent([]));
            response.StatusCode.ShouldNotBe(HttpStatusCode.NotFound, member);
        }
    }

    [Fact]
    public async Task A_configured_issuer_is_used_instead_of_the_request_origin()
    {
        using var configured = AuthServerFactory.With(new() { ["AuthServer:Issuer"] = "https://login.example.com" });
        var doc = JsonDocument.Parse(await configured.CreateClient().GetStringAsync("/.well-known/oauth-authorization-server")).RootElement;

        doc.GetProperty("issuer").GetString().ShouldBe("https://login.example.com");
        doc.GetProperty("token_endpoint").GetString().ShouldBe("https://login.example.com/connect/token");
    }

    private static string[] Strings(JsonElement doc, string name) =>
        doc.GetProperty(name).EnumerateArray().Select(e => e.GetString()!).ToArray();
}
