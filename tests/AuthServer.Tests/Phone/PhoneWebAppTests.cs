using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using AuthServer.Tests.Infrastructure;

namespace AuthServer.Tests.Phone;

/// <summary>The phone web app's files and its client: what a browser installing and signing in to it relies on.</summary>
public sealed partial class PhoneWebAppTests(AuthServerFactory factory) : IClassFixture<AuthServerFactory>
{
    private const string Scope = "openid profile offline_access phone_app";
    private const string Callback = "http://localhost/phone/callback";

    [Fact]
    public async Task Phone_without_a_slash_goes_to_the_app_folder_so_the_service_worker_scope_covers_it()
    {
        var response = await factory.CreateBrowser().GetAsync("/phone");

        response.StatusCode.ShouldBe(HttpStatusCode.Redirect);
        response.Headers.Location!.ToString().ShouldBe("/phone/");
    }

    [Theory]
    [InlineData("/phone/")]
    [InlineData("/phone/callback?code=abc&state=xyz")]
    public async Task The_app_page_is_served_uncached_under_the_servers_csp_with_no_inline_script(string path)
    {
        var response = await factory.CreateClient().GetAsync(path);
        var html = await response.Content.ReadAsStringAsync();

        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        response.Content.Headers.ContentType!.MediaType.ShouldBe("text/html");
        response.Headers.CacheControl!.NoStore.ShouldBeTrue();
        response.Headers.GetValues("Content-Security-Policy").ShouldHaveSingleItem().ShouldContain("default-src 'self'");
        html.ShouldContain("<link rel=\"manifest\" href=\"/phone/manifest.webmanifest\" />");
        html.ShouldContain("<script type=\"module\" src=\"/phone/app.js\"></script>");
        // Every script has a src (the CSP allows no inline script) and no element carries an inline style or handler.
        ScriptTag().Matches(html).ShouldAllBe(tag => tag.Value.Contains("src=\""));
        html.ShouldNotContain(" style=\"");
        html.ShouldNotContain(" onclick=");
    }

    [Fact]
    public async Task The_manifest_makes_the_app_installable_with_icons_that_exist_at_their_declared_sizes()
    {
        var http = factory.CreateClient();
        var response = await http.GetAsync("/phone/manifest.webmanifest");
        var manifest = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;

        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        response.Content.Headers.ContentType!.MediaType.ShouldBe("application/manifest+json");
        manifest.GetProperty("name").GetString().ShouldBe("AuthServer");
        manifest.GetProperty("start_url").GetString().ShouldBe("/phone/");
        manifest.GetProperty("scope").GetString().ShouldBe("/phone/");
        manifest.GetProperty("display").GetString().ShouldBe("standalone");
        var icons = manifest.GetProperty("icons").EnumerateArray().ToList();
        icons.Select(i => i.GetProperty("sizes").GetString()).ShouldBe(["192x192", "512x512"]);
        foreach (var icon in icons)
        {
            var png = await http.GetByteArrayAsync(icon.GetProperty("src").GetString());
            // PNG signature, then IHDR's width and height (ISO/IEC 15948 §11.2.2), big-endian.
            png[..8].ShouldBe(new byte[] { 0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a });
            var width = (png[16] << 24) | (png[17] << 16) | (png[18] << 8) | png[19];
            var height = (png[20] << 24) | (png[21] << 16) | (png[22] << 8) | png[23];
            $"{width}x{height}".ShouldBe(icon.GetProperty("sizes").GetString());
        }
    }

    [Fact]
    public async Task The_service_worker_caches_only_the_shell_files_that_the_server_serves()
    {
        var http = factory.CreateClient();
        var response = await http.GetAsync("/phone/sw.js");
        var script = await response.Content.ReadAsStringAsync();

        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        response.Content.Headers.ContentType!.MediaType.ShouldBe("text/javascript");
        var shell = ShellEntry().Matches(script).Select(m => m.Groups[1].Value).ToList();
        shell.ShouldContain("/phone/");
        shell.ShouldContain("/phone/vendor/jsqr/jsQR.js");
        shell.ShouldAllBe(path => path.StartsWith("/phone/"));
        foreach (var path in shell)
            (await http.GetAsync(path)).StatusCode.ShouldBe(HttpStatusCode.OK, path);
    }

    [Fact]
    public async Task JsQR_is_served_as_one_file_with_its_licence_beside_it()
    {
        var http = factory.CreateClient();

        var library = await http.GetStringAsync("/phone/vendor/jsqr/jsQR.js");
        var licence = await http.GetStringAsync("/phone/vendor/jsqr/LICENSE");

        library.ShouldContain("root[\"jsQR\"] = factory()");
        licence.ShouldContain("Apache License");
    }

    [Fact]
    public async Task The_phone_web_client_signs_in_on_the_servers_own_callback_with_a_dpop_bound_code()
    {
        var browser = factory.CreateBrowser();
        await browser.SignInAsync();
        using var key = DpopKey.Ec(factory.Clock);
        var pkce = CodeFlow.Pkce.New();

        var response = await browser.GetAsync(CodeFlow.AuthorizeUrl("phone-web", Callback, pkce, Scope,
            extra: new() { ["dpop_jkt"] = key.Jkt, ["device_name"] = "AuthServer app (Android)" }));

        response.StatusCode.ShouldBe(HttpStatusCode.Redirect);
        var landed = response.Headers.Location!;
        landed.GetLeftPart(UriPartial.Path).ShouldBe(Callback);
        var query = CodeFlow.Query(landed);
        query["state"].ShouldBe("s-123");
        var http = factory.CreateClient();
        var form = new[]
        {
            ("grant_type", "authorization_code"), ("client_id", "phone-web"), ("code", query["code"]),
            ("redirect_uri", Callback), ("code_verifier", pkce.Verifier),
        };
        var tokens = await key.PostFormAsync(http, "/connect/token", form);
        tokens.Status.ShouldBe(HttpStatusCode.OK, $"body: {tokens.Json}");
        tokens.Get("token_type").ShouldBe("DPoP");
        tokens.Json.GetProperty("refresh_token").GetString().ShouldNotBeNullOrEmpty();
        // Its token is a phone token: the phone API lists the new device as the current one.
        var devices = await key.CallAsync(http, HttpMethod.Get, "/api/phone/devices", tokens.Get("access_token"));
        devices.Status.ShouldBe(HttpStatusCode.OK);
        var current = devices.Json.EnumerateArray().Single(d => d.GetProperty("current").GetBoolean());
        current.GetProperty("name").GetString().ShouldBe("AuthServer app (Android)");
        current.GetProperty("client").GetProperty("id").GetString().ShouldBe("phone-web");
    }

    [Fact]
    public async Task The_phone_web_client_refuses_a_token_request_without_a_dpop_proof()
    {
        var browser = factory.CreateBrowser();
        await browser.SignInAsync();
        var pkce = CodeFlow.Pkce.New();
        var response = await browser.GetAsync(CodeFlow.AuthorizeUrl("phone-web", Callback, pkce, Scope));
        var code = CodeFlow.Query(response.Headers.Location!)["code"];

        var tokens = await factory.CreateClient().PostFormAsync("/connect/token",
            ("grant_type", "authorization_code"), ("client_id", "phone-web"), ("code", code),
            ("redirect_uri", Callback), ("code_verifier", pkce.Verifier));

        tokens.Status.ShouldBe(HttpStatusCode.BadRequest);
        tokens.Json.GetProperty("error").GetString().ShouldBe("invalid_dpop_proof");
    }

    [Theory]
    [InlineData("https://evil.example/phone/callback")]
    [InlineData("http://localhost/phone/other")]
    [InlineData("http://localhost/callback")]
    public async Task The_phone_web_client_has_no_other_redirect_uri(string redirectUri)
    {
        var browser = factory.CreateBrowser();
        await browser.SignInAsync();

        var response = await browser.GetAsync(CodeFlow.AuthorizeUrl("phone-web", redirectUri, CodeFlow.Pkce.New(), Scope));

        // RFC 6749 §4.1.2.1: never redirect to an unregistered URI; the error is shown on our own page.
        response.StatusCode.ShouldBe(HttpStatusCode.Redirect);
        response.Headers.Location!.ToString().ShouldStartWith("/authorize/error");
    }

    [GeneratedRegex("<script[^>]*>")]
    private static partial Regex ScriptTag();

    [GeneratedRegex("\"(/phone/[^\"]*)\"")]
    private static partial Regex ShellEntry();
}
