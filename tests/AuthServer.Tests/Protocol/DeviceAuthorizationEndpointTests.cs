using System.Net;
using System.Text.RegularExpressions;
using AuthServer.Tests.Infrastructure;

namespace AuthServer.Tests.Protocol;

public abstract partial class DeviceAuthorizationEndpointTests(AuthServerFactory factory)
{
    public sealed class OnSqlite(AuthServerFactory server) : DeviceAuthorizationEndpointTests(server), IClassFixture<AuthServerFactory>;

    public sealed class OnPostgreSql(PostgreSqlAuthServerFactory server) : DeviceAuthorizationEndpointTests(server), IClassFixture<PostgreSqlAuthServerFactory>;

    private readonly HttpClient _device = factory.CreateClient();

    [Fact]
    public async Task A_device_authorization_returns_codes_uris_lifetime_and_interval()
    {
        var answer = await _device.StartAsync();

        answer.Status.ShouldBe(HttpStatusCode.OK);
        answer.Response.Headers.CacheControl!.NoStore.ShouldBeTrue();
        // 256 random bits in base64url: 43 characters.
        answer.Get("device_code").Length.ShouldBe(43);
        var userCode = answer.Get("user_code");
        UserCodeShape().IsMatch(userCode).ShouldBeTrue(userCode);
        answer.Get("verification_uri").ShouldBe("http://localhost/device");
        answer.Get("verification_uri_complete").ShouldBe($"http://localhost/device?user_code={userCode}");
        answer.Json.GetProperty("expires_in").GetInt32().ShouldBe(300);
        answer.Json.GetProperty("interval").GetInt32().ShouldBe(5);
    }

    [Fact]
    public async Task Each_request_gets_fresh_codes()
    {
        var first = await _device.StartAsync();
        var second = await _device.StartAsync();

        first.Get("device_code").ShouldNotBe(second.Get("device_code"));
        first.Get("user_code").ShouldNotBe(second.Get("user_code"));
    }

    [Fact]
    public async Task The_device_code_is_stored_only_as_a_hash()
    {
        var answer = await _device.StartAsync();
        var deviceCode = answer.Get("device_code");

        await using var connection = await factory.OpenDatabaseAsync();
        var stored = await connection.ScalarAsync<string>("SELECT \"DeviceCodeHash\" FROM \"DeviceAuthorizations\" WHERE \"UserCode\" = @code",
            ("@code", answer.Get("user_code").Replace("-", "")));

        stored.ShouldNotBeNull();
        stored.ShouldNotBe(deviceCode);
        stored.ShouldBe(AuthServer.DeviceFlow.OpaqueSecret.Hash(deviceCode));
    }

    [Fact]
    public async Task A_scope_the_client_may_not_request_is_invalid_scope()
    {
        var answer = await _device.StartAsync(scope: "openid phone");

        answer.Status.ShouldBe(HttpStatusCode.BadRequest);
        answer.Error.ShouldBe("invalid_scope");
    }

    [Fact]
    public async Task An_unknown_scope_is_invalid_scope()
    {
        var answer = await _device.StartAsync(scope: "openid launch_missiles");

        answer.Status.ShouldBe(HttpStatusCode.BadRequest);
        answer.Error.ShouldBe("invalid_scope");
    }

    [Fact]
    public async Task Without_a_scope_parameter_the_clients_registered_scopes_apply()
    {
        var started = await _device.PostFormAsync("/connect/device", ("client_id", "demo-tv"));
        started.Status.ShouldBe(HttpStatusCode.OK);

        await factory.DecideAsDemoUserAsync(started.Get("user_code"), approve: true);
        var tokens = await _device.PollAsync(started.Get("device_code"));

        tokens.Get("scope").ShouldBe("openid profile offline_access api");
    }

    [Fact]
    public async Task An_empty_scope_parameter_counts_as_omitted()
    {
        var started = await _device.PostFormAsync("/connect/device", ("client_id", "demo-tv"), ("scope", ""));
        await factory.DecideAsDemoUserAsync(started.Get("user_code"), approve: true);

        (await _device.PollAsync(started.Get("device_code"))).Get("scope").ShouldBe("openid profile offline_access api");
    }

    [Fact]
    public async Task A_subset_of_the_allowed_scopes_is_granted_as_asked()
    {
        var started = await _device.StartAsync(scope: "openid api");
        await factory.DecideAsDemoUserAsync(started.Get("user_code"), approve: true);

        (await _device.PollAsync(started.Get("device_code"))).Get("scope").ShouldBe("openid api");
    }

    [Fact]
    public async Task A_client_without_the_device_grant_gets_unauthorized_client()
    {
        var answer = await _device.StartAsync(clientId: "phone", scope: "openid");

        answer.Status.ShouldBe(HttpStatusCode.BadRequest);
        answer.Error.ShouldBe("unauthorized_client");
    }

    [Fact]
    public async Task An_unknown_client_gets_invalid_client()
    {
        var answer = await _device.StartAsync(clientId: "nobody");

        answer.Status.ShouldBe(HttpStatusCode.Unauthorized);
        answer.Error.ShouldBe("invalid_client");
    }

    [Fact]
    public async Task An_overlong_device_name_is_invalid_request()
    {
        var answer = await _device.StartAsync(deviceName: new string('x', 101));

        answer.Status.ShouldBe(HttpStatusCode.BadRequest);
        answer.Error.ShouldBe("invalid_request");
    }

    [Fact]
    public async Task A_device_name_with_control_characters_is_invalid_request()
    {
        var answer = await _device.StartAsync(deviceName: "TV\nApprove me");

        answer.Status.ShouldBe(HttpStatusCode.BadRequest);
        answer.Error.ShouldBe("invalid_request");
    }

    [Theory]
    [InlineData("TV \u202Egnp.exe")]          // right-to-left override: reads as "TV exe.png"
    [InlineData("TV \u2066Office\u2069")]     // left-to-right isolate
    [InlineData("Living\u200Broom")]          // zero-width space
    [InlineData("Living\u2028room")]          // line separator
    [InlineData("TV\uFEFF")]                  // byte order mark, a format character
    [InlineData("TV \uE000")]                 // private use
    [InlineData("TV \u001B[2J")]              // a terminal escape
    public async Task A_device_name_with_format_or_invisible_characters_is_invalid_request(string deviceName)
    {
        var answer = await _device.StartAsync(deviceName: deviceName);

        answer.Status.ShouldBe(HttpStatusCode.BadRequest);
        answer.Error.ShouldBe("invalid_request");
        answer.Get("error_description").ShouldContain("format characters");
    }

    [Theory]
    [InlineData("客厅电视")]
    [InlineData("📺 Living room")]
    [InlineData("Télé du salon")]
    [InlineData("שולחן עבודה")]                 // right-to-left script is fine; only the invisible controls are refused
    public async Task A_device_name_in_any_script_or_with_emoji_is_accepted(string deviceName)
    {
        var answer = await _device.StartAsync(deviceName: deviceName);

        answer.Status.ShouldBe(HttpStatusCode.OK, answer.Json.ToString());
        answer.Get("device_code").ShouldNotBeEmpty();
    }

    [GeneratedRegex("^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$")]
    private static partial Regex UserCodeShape();

    [Fact]
    public async Task A_repeated_scope_is_invalid_request_rather_than_the_default_scopes()
    {
        // RFC 6749 §3.1: a parameter must not come twice; read as absent it would grant the client's whole default.
        var answer = await factory.CreateClient().PostFormAsync("/connect/device",
            ("client_id", "demo-tv"), ("scope", "openid"), ("scope", "profile"));

        answer.Status.ShouldBe(System.Net.HttpStatusCode.BadRequest);
        answer.Error.ShouldBe("invalid_request");
        answer.Json.TryGetProperty("device_code", out _).ShouldBeFalse();
    }
}
