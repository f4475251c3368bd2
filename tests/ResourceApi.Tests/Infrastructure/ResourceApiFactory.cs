using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using AuthServer.Tests.Infrastructure;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using ResourceApi;

namespace ResourceApi.Tests.Infrastructure;

/// <summary>
/// The sample resource API in memory, pointed at an in-memory AuthServer: its JWT bearer handler's discovery and JWKS
/// requests go to the AuthServer's test server (whose Development issuer is the request origin, <c>http://localhost</c>),
/// and it reads the AuthServer's clock, so a test moves time for both at once (for token lifetimes and DPoP proofs; the
/// handler's key-set refresh runs on the system clock). Every metadata request is recorded.
/// </summary>
public sealed class ResourceApiFactory(AuthServerFactory authServer, Dictionary<string, string?>? settings = null)
    : WebApplicationFactory<ResourceApiOptions>
{
    public const string Authority = "http://localhost/";

    /// <summary>The paths the API fetched from the authorization server, in order.</summary>
    public ConcurrentQueue<string> AuthorityRequests { get; } = new();

    public int JwksFetches => AuthorityRequests.Count(p => p == "/.well-known/jwks");

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Development");
        builder.UseSetting("Authority", Authority);
        builder.UseSetting("Audience", "api");
        builder.UseSetting("RequireHttpsMetadata", "false");
        builder.UseSetting("Logging:LogLevel:Default", "Warning");
        foreach (var (key, value) in settings ?? []) builder.UseSetting(key, value);
        builder.ConfigureLogging(logging => logging.SetMinimumLevel(LogLevel.Warning));
        builder.ConfigureTestServices(services =>
        {
            services.RemoveAll<TimeProvider>();
            services.AddSingleton<TimeProvider>(authServer.Clock);
            // Configure, not PostConfigure: the handler builds its metadata client from this in its own PostConfigure.
            services.Configure<JwtBearerOptions>(JwtBearerDefaults.AuthenticationScheme, jwt =>
            {
                jwt.BackchannelHttpHandler = new RecordingHandler(AuthorityRequests) { InnerHandler = authServer.Server.CreateHandler() };
                // The sample gives the authority 10 seconds. Here the authority is a test server whose first request
                // builds its whole pipeline, while the other test assemblies run beside this one on a small machine:
                // a test whose first request is the API's discovery has seen that take longer (and answer 503).
                jwt.BackchannelTimeout = TimeSpan.FromMinutes(2);
            });
        });
    }

    private sealed class RecordingHandler(ConcurrentQueue<string> requests) : DelegatingHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            requests.Enqueue(request.RequestUri!.AbsolutePath);
            return base.SendAsync(request, cancellationToken);
        }
    }
}

internal static class TestHostDefaults
{
    /// <summary>As in AuthServer.Tests: test servers do not watch their settings files (inotify instances are few).</summary>
    [ModuleInitializer]
    internal static void DoNotWatchConfigurationFiles() =>
        Environment.SetEnvironmentVariable("DOTNET_hostBuilder__reloadConfigOnChange", "false");
}
