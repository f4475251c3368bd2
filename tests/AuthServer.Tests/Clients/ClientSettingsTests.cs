using AuthServer.Tests.Infrastructure;

namespace AuthServer.Tests.Clients;

/// <summary>The per-client settings the admin pages edit, as configuration can declare them too.</summary>
public sealed class ClientSettingsTests
{
    [Fact]
    public async Task A_clients_own_token_lifetimes_replace_the_servers()
    {
        using var factory = AuthServerFactory.With(new() { ["Clients:demo-tv:AccessTokenLifetime"] = "00:02:00" });

        var tokens = await factory.SignInDeviceAsync();

        tokens.Json.GetProperty("expires_in").GetInt32().ShouldBe(120);
        var token = new Microsoft.IdentityModel.JsonWebTokens.JsonWebToken(tokens.Get("access_token"));
        (token.ValidTo - token.IssuedAt).ShouldBe(TimeSpan.FromMinutes(2));
    }

    [Fact]
    public async Task A_disabled_client_is_refused_at_openiddicts_endpoints_and_at_the_push_stream()
    {
        using var factory = AuthServerFactory.With(new() { ["Clients:demo-tv:Disabled"] = "true" });
        var http = factory.CreateClient();

        var device = await http.StartAsync();
        var stream = await http.PostFormAsync(EventStream.Path, ("client_id", "demo-tv"), ("device_code", "anything"));

        device.Error.ShouldBe("unauthorized_client");
        stream.Error.ShouldBe("unauthorized_client");
        stream.Get("error_description").ShouldBe("This client is disabled.");
    }

    [Fact]
    public void A_logo_that_is_not_https_stops_start_up_with_a_message()
    {
        using var factory = AuthServerFactory.With(new() { ["Clients:demo-tv:LogoUri"] = "http://tv.example/logo.png" });

        var failure = Should.Throw<Exception>(() => factory.CreateClient());

        failure.ToString().ShouldContain("Clients:demo-tv: LogoUri must be an https URL.");
    }
}
