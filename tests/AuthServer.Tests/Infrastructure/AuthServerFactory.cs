using System.Data.Common;
using AuthServer.Data;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;

namespace AuthServer.Tests.Infrastructure;

/// <summary>
/// The real server in memory, in the Development environment (so the demo user, the administrator and <c>demo-tv</c>
/// exist), on its own SQLite file or PostgreSQL database (<see cref="Provider"/>), with a clock the test controls. Extra
/// settings override the operator's configuration.
/// </summary>
public class AuthServerFactory : WebApplicationFactory<Program>
{
    public const string DemoEmail = "demo@example.com";
    public const string DemoPassword = "Demo-Password-1";

    /// <summary>The administrator appsettings.Development.json configures (<c>Admin:Email</c>, <c>Admin:Password</c>).</summary>
    public const string AdminEmail = "admin@example.com";
    public const string AdminPassword = "Admin-Password-1";

    /// <summary>A confidential test client, registered for every factory. Its plain secret is <see cref="SecretClientSecret"/>.</summary>
    public const string SecretClientId = "test-confidential";
    public const string SecretClientSecret = "test-secret-with-enough-entropy-0123456789";

    /// <summary>A confidential service client with the client credentials grant (RFC 6749 §4.4).</summary>
    public const string ServiceClientId = "test-service";
    public const string ServiceClientSecret = "test-service-secret-with-enough-entropy-0123456789";

    public const string WebAppClientId = "test-webapp";
    public const string WebAppSecret = "test-webapp-secret-with-enough-entropy-0123456789";
    public const string WebAppOrigin = "https://webapp.example";
    public const string WebAppRedirectUri = "https://webapp.example/callback";
    public const string WebAppPostLogoutUri = "https://webapp.example/signed-out";

    private readonly string _databaseDirectory = Directory.CreateTempSubdirectory("authserver-test-").FullName;
    private readonly Dictionary<string, string?> _settings;
    private readonly string? _postgres;

    /// <summary>The store this server runs on (<c>Database:Provider</c>).</summary>
    public DatabaseProvider Provider { get; }

    /// <summary>
    /// The server's clock. It starts at the real time, so certificates, cookies and Data Protection keys made now are
    /// valid on it (FakeTimeProvider would start in 2000), cut to the whole second as token times are. It moves only
    /// when a test calls <c>Advance</c> or <c>SetUtcNow</c> (<c>AutoAdvanceAmount</c> stays zero), which fires the
    /// timers that come due.
    /// </summary>
    public FakeTimeProvider Clock { get; } = new(DateTimeOffset.FromUnixTimeSeconds(DateTimeOffset.UtcNow.ToUnixTimeSeconds()));

    /// <summary>
    /// Keep the server's real <see cref="TimeProvider.System"/> instead of <see cref="Clock"/>. For tests that talk to a
    /// separate process (a real client library) in real time, where a frozen clock would misjudge its polling and token
    /// times. Set it before the server starts.
    /// </summary>
    public bool UseSystemClock { get; set; }

    /// <summary>The SQLite file, for a server on SQLite.</summary>
    public string DatabasePath => Path.Combine(_databaseDirectory, "authserver.db");

    /// <summary>
    /// The server's <c>ConnectionStrings:AuthServer</c>; a test may add keywords (e.g. a short busy timeout) before it
    /// starts.
    /// </summary>
    public string ConnectionString { get; set; }

    public AuthServerFactory() : this(DatabaseProvider.Sqlite)
    {
    }

    /// <summary>
    /// A server on <paramref name="provider"/>; on PostgreSQL, in a new empty database of the server that
    /// <c>AUTHSERVER_TEST_POSTGRES</c> names (without it, this fails with what to do).
    /// </summary>
    protected AuthServerFactory(DatabaseProvider provider)
    {
        Provider = provider;
        if (provider == DatabaseProvider.PostgreSql) _postgres = TestPostgres.CreateDatabase();
        ConnectionString = _postgres ?? $"Data Source={DatabasePath}";
        _settings = new Dictionary<string, string?>
        {
            [$"Clients:{SecretClientId}:DisplayName"] = "Test confidential device",
            [$"Clients:{SecretClientId}:Type"] = "Confidential",
            [$"Clients:{SecretClientId}:Secrets:0"] = SecretClientSecret,
            [$"Clients:{SecretClientId}:GrantTypes:0"] = "urn:ietf:params:oauth:grant-type:device_code",
            [$"Clients:{SecretClientId}:Scopes:0"] = "openid",
            [$"Clients:{SecretClientId}:Scopes:1"] = "api",
            [$"Clients:{ServiceClientId}:DisplayName"] = "Test service",
            [$"Clients:{ServiceClientId}:Type"] = "Confidential",
            [$"Clients:{ServiceClientId}:Secrets:0"] = ServiceClientSecret,
            [$"Clients:{ServiceClientId}:GrantTypes:0"] = "client_credentials",
            [$"Clients:{ServiceClientId}:Scopes:0"] = "api",
            // A third-party web app: confidential, needs consent, browser origin registered for CORS.
            [$"Clients:{WebAppClientId}:DisplayName"] = "Test Web App",
            [$"Clients:{WebAppClientId}:Type"] = "Confidential",
            [$"Clients:{WebAppClientId}:Secrets:0"] = WebAppSecret,
            [$"Clients:{WebAppClientId}:GrantTypes:0"] = "authorization_code",
            [$"Clients:{WebAppClientId}:GrantTypes:1"] = "refresh_token",
            [$"Clients:{WebAppClientId}:Scopes:0"] = "openid",
            [$"Clients:{WebAppClientId}:Scopes:1"] = "profile",
            [$"Clients:{WebAppClientId}:Scopes:2"] = "email",
            [$"Clients:{WebAppClientId}:Scopes:3"] = "offline_access",
            [$"Clients:{WebAppClientId}:Scopes:4"] = "api",
            [$"Clients:{WebAppClientId}:RedirectUris:0"] = WebAppRedirectUri,
            [$"Clients:{WebAppClientId}:PostLogoutRedirectUris:0"] = WebAppPostLogoutUri,
            [$"Clients:{WebAppClientId}:AllowedCorsOrigins:0"] = WebAppOrigin,
            ["Logging:LogLevel:Default"] = "Warning",
            ["Logging:LogLevel:Microsoft.AspNetCore"] = "Warning",
        };
        foreach (var (key, value) in RaisedRateLimits) _settings[key] = value;
    }

    /// <summary>
    /// Test servers share one client address and run many logins; the limits have their own tests with small budgets
    /// (RateLimitTests). Also given to the server processes of the cluster tests (<c>ServerNode</c>).
    /// </summary>
    public static readonly IReadOnlyDictionary<string, string> RaisedRateLimits = new Dictionary<string, string>
    {
        ["RateLimits:UserCodeLookupsPerAccount:PermitLimit"] = "10000",
        ["RateLimits:UserCodeLookupsPerNetwork:PermitLimit"] = "10000",
        ["RateLimits:UnknownUserCodes:PermitLimit"] = "10000",
        ["RateLimits:DeviceAuthorizationsPerClient:PermitLimit"] = "100000",
        ["RateLimits:DeviceAuthorizationsPerNetwork:PermitLimit"] = "100000",
    };

    /// <summary>A server on <paramref name="provider"/> (class fixtures take the one public constructor: SQLite).</summary>
    public static AuthServerFactory On(DatabaseProvider provider) => new(provider);

    /// <summary>A factory whose configuration adds or overrides <paramref name="settings"/>.</summary>
    public static AuthServerFactory With(Dictionary<string, string?> settings, DatabaseProvider provider = DatabaseProvider.Sqlite)
    {
        var factory = new AuthServerFactory(provider);
        foreach (var (key, value) in settings) factory._settings[key] = value;
        return factory;
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Development");
        builder.UseSetting(DatabaseRegistration.ProviderKey, Provider.ToString());
        builder.UseSetting("ConnectionStrings:AuthServer", ConnectionString);
        foreach (var (key, value) in _settings) builder.UseSetting(key, value);
        builder.ConfigureLogging(logging => logging.SetMinimumLevel(LogLevel.Warning));
        builder.ConfigureTestServices(services =>
        {
            services.AddSingleton<Microsoft.AspNetCore.Hosting.IStartupFilter, RemoteAddressFromTestHeader>();
            if (UseSystemClock) return;
            services.RemoveAll<TimeProvider>();
            services.AddSingleton<TimeProvider>(Clock);
        });
    }

    /// <summary>
    /// The in-memory test server has no client address; a test picks one with this header. A startup filter's middleware
    /// runs before the server's own pipeline, so the forwarded-headers middleware sees this address as the peer.
    /// </summary>
    public const string RemoteIpHeader = "X-Test-Remote-Ip";

    private sealed class RemoteAddressFromTestHeader : Microsoft.AspNetCore.Hosting.IStartupFilter
    {
        public Action<Microsoft.AspNetCore.Builder.IApplicationBuilder> Configure(Action<Microsoft.AspNetCore.Builder.IApplicationBuilder> next) => app =>
        {
            app.Use((context, nextMiddleware) =>
            {
                if (context.Request.Headers.TryGetValue(RemoteIpHeader, out var value) && System.Net.IPAddress.TryParse(value, out var address))
                    context.Connection.RemoteIpAddress = address;
                return nextMiddleware(context);
            });
            next(app);
        };
    }

    /// <summary>A client that keeps cookies and does not follow redirects, like a careful browser test.</summary>
    public HttpClient CreateBrowser(string? remoteIp = null)
    {
        var browser = CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = true });
        if (remoteIp is not null) browser.DefaultRequestHeaders.Add(RemoteIpHeader, remoteIp);
        return browser;
    }

    /// <summary>
    /// A connection of the test's own to the server's database, for looking at rows. Statements written for both take
    /// <c>@name</c> parameters (<see cref="TestSql"/>).
    /// </summary>
    public async Task<DbConnection> OpenDatabaseAsync()
    {
        DbConnection connection = Provider == DatabaseProvider.PostgreSql
            ? new Npgsql.NpgsqlConnection(ConnectionString)
            : new Microsoft.Data.Sqlite.SqliteConnection(ConnectionString);
        await connection.OpenAsync();
        return connection;
    }

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        if (_postgres is not null)
        {
            Npgsql.NpgsqlConnection.ClearAllPools();
            TestPostgres.DropDatabase(_postgres);
        }
        try { Directory.Delete(_databaseDirectory, recursive: true); } catch (IOException) { }
    }
}

/// <summary>
/// The same server on PostgreSQL, as a class fixture: a test class that runs on both providers has one derived class
/// per provider, with this fixture or <see cref="AuthServerFactory"/>.
/// </summary>
public sealed class PostgreSqlAuthServerFactory() : AuthServerFactory(DatabaseProvider.PostgreSql);
