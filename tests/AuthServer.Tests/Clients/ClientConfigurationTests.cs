using AuthServer.Tests.Infrastructure;

namespace AuthServer.Tests.Clients;

public sealed class ClientConfigurationTests
{
    private static Exception StartupFailure(Dictionary<string, string?> settings)
    {
        using var factory = AuthServerFactory.With(settings);
        return Should.Throw<Exception>(() => factory.CreateClient());
    }

    [Fact]
    public void A_client_scope_missing_from_the_Scopes_section_stops_start_up_with_its_name()
    {
        var failure = StartupFailure(new() { ["Clients:demo-tv:Scopes:4"] = "apii" });

        failure.ToString().ShouldContain("Clients:demo-tv: scope 'apii' is not declared");
    }

    [Fact]
    public void A_confidential_client_without_a_secret_stops_start_up()
    {
        var failure = StartupFailure(new() { ["Clients:broken:Type"] = "Confidential", ["Clients:broken:GrantTypes:0"] = "refresh_token" });

        failure.ToString().ShouldContain("Clients:broken: a confidential client needs at least one secret hash");
    }

    [Fact]
    public void A_malformed_secret_hash_stops_start_up()
    {
        var failure = StartupFailure(new() { [$"Clients:{AuthServerFactory.SecretClientId}:SecretHashes:0"] = "plain-text-secret" });

        failure.ToString().ShouldContain("is not a secret hash");
    }

    [Fact]
    public void An_unsupported_signing_algorithm_stops_start_up()
    {
        var failure = StartupFailure(new() { ["Tokens:AccessTokenAlgorithm"] = "HS256" });

        failure.ToString().ShouldContain("Tokens:AccessTokenAlgorithm");
    }

    [Fact]
    public void Zero_SQLite_lanes_stop_start_up()
    {
        var failure = StartupFailure(new() { ["Storage:SqliteLanes"] = "0" });

        failure.ToString().ShouldContain("Storage:SqliteLanes must be at least 1");
    }

    [Fact]
    public void An_unknown_database_provider_stops_start_up_naming_the_choices()
    {
        var failure = StartupFailure(new() { ["Database:Provider"] = "Oracle" });

        failure.ToString().ShouldContain("Database:Provider must be Sqlite or PostgreSql, not 'Oracle'");
    }

    [Fact]
    public void A_malformed_PostgreSQL_connection_string_stops_start_up_naming_the_key()
    {
        var failure = StartupFailure(new() { ["Database:Provider"] = "PostgreSql", ["ConnectionStrings:AuthServer"] = "Data Source" });

        failure.ToString().ShouldContain("ConnectionStrings:AuthServer is not a valid PostgreSQL connection string");
    }

    [Fact]
    public void An_unsupported_ID_token_algorithm_for_a_client_stops_start_up_naming_it()
    {
        var failure = StartupFailure(new() { ["Clients:demo-tv:IdTokenSignedResponseAlg"] = "none" });

        failure.ToString().ShouldContain("Clients:demo-tv: IdTokenSignedResponseAlg must be one of ES256, RS256");
    }

    [Fact]
    public void An_issuer_with_a_path_stops_start_up()
    {
        var failure = StartupFailure(new() { ["AuthServer:Issuer"] = "https://example.com/auth" });

        failure.ToString().ShouldContain("must not have a path");
    }

    [Fact]
    public void Outside_development_an_http_issuer_stops_start_up()
    {
        using var factory = new ProductionFactory();
        var failure = Should.Throw<Exception>(() => factory.CreateClient());

        failure.ToString().ShouldContain("https");
    }

    private sealed class ProductionFactory : AuthServerFactory
    {
        protected override void ConfigureWebHost(Microsoft.AspNetCore.Hosting.IWebHostBuilder builder)
        {
            base.ConfigureWebHost(builder);
            builder.UseSetting("AuthServer:Issuer", "http://login.example.com");
            Microsoft.AspNetCore.Hosting.HostingAbstractionsWebHostBuilderExtensions.UseEnvironment(builder, "Production");
        }
    }
}
