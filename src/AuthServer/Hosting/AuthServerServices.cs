using Microsoft.AspNetCore.Identity;
using System.Net;
using AuthServer.Clients;
using AuthServer.Cluster;
using AuthServer.Data;
using AuthServer.Data.Entities;
using AuthServer.DeviceFlow;
using AuthServer.Localization;
using AuthServer.Protocol;
using AuthServer.RateLimits;
using AuthServer.Tokens;
using AuthServer.WebSignIn;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration.Json;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.FileProviders;

namespace AuthServer.Hosting;

public static class AuthServerServices
{
    public const string ConnectionStringName = "AuthServer";

    /// <summary>Registers everything the server needs, bound to its configuration sections.</summary>
    public static WebApplicationBuilder AddAuthServer(this WebApplicationBuilder builder)
    {
        ReadOperatorSettingsFromBuildOutput(builder.Configuration);
        var services = builder.Services;

        services.TryAddSingleton(TimeProvider.System);
        services.AddOptions<AuthServerOptions>().BindConfiguration(AuthServerOptions.Section)
            .Validate(o => builder.Environment.IsDevelopment() || o.Issuer is { Scheme: "https", Query: "", Fragment: "" },
                "AuthServer:Issuer must be set to an https URL without query or fragment outside Development (RFC 8414 §2).")
            // The endpoints are mapped at the root; an issuer with a path would advertise URLs that do not resolve.
            .Validate(o => o.Issuer is null || o.Issuer.AbsolutePath == "/", "AuthServer:Issuer must not have a path.")
            .ValidateDataAnnotations()
            .ValidateOnStart();
        services.AddOptions<TokenOptions>().BindConfiguration(TokenOptions.Section).ValidateDataAnnotations()
            .Validate(o => SigningKeyStore.Algorithms.Contains(o.AccessTokenAlgorithm) && SigningKeyStore.Algorithms.Contains(o.IdentityTokenAlgorithm),
                $"Tokens:AccessTokenAlgorithm and Tokens:IdentityTokenAlgorithm must be one of {string.Join(", ", SigningKeyStore.Algorithms)}.")
            .ValidateOnStart();
        services.AddOptions<DemoOptions>().BindConfiguration(DemoOptions.Section);
        services.AddOptions<KeyRotationOptions>().BindConfiguration(KeyRotationOptions.Section)
            .Validate(o => o.RotationPeriod > o.PublishAhead && o.CheckInterval > TimeSpan.Zero && o.KeepRetired > TimeSpan.Zero,
                "Keys: RotationPeriod must exceed PublishAhead; CheckInterval and KeepRetired must be positive.")
            .ValidateOnStart();

        // SQLite or PostgreSQL (Database:Provider), with what only that provider needs (src/AuthServer/Data).
        builder.AddDatabase();
        // The cross-node event bus and where polling bookkeeping lives, per provider (src/AuthServer/Cluster).
        builder.AddCluster();
        AddIdentity(builder);
        services.AddBrowserSessions();
        builder.AddAdminAccess();
        builder.AddProtocol();
        AddForwardedHeaders(builder);
        builder.AddSecurityHeaders();
        builder.AddRequestLimits();

        services.AddSingleton<IssuerResolver>();
        services.AddSingleton<ScopeCatalog>();
        services.AddSingleton<ClientStore>();
        services.AddSingleton<ClientAuthenticator>();
        services.AddSingleton<LiveRequestCache>();
        services.AddSingleton<SigningKeyStore>();
        services.AddSingleton<IDpopRequestUri, IssuerDpopRequestUri>();
        services.AddSingleton<IDpopNonceKeySource, SigningKeyNonceKeySource>();
        services.AddDpopProofValidation().BindConfiguration(DpopOptions.Section);
        services.AddScoped<ClientSeeder>();
        services.AddSingleton<DeviceAuthorizationSql>();
        services.AddScoped<DeviceFlowService>();
        services.AddSingleton<AccessTokenAuthentication>();
        services.AddCleanup();
        services.AddHostedService<KeyRotationWorker>();

        services.AddCors();
        services.AddSingleton<Microsoft.AspNetCore.Cors.Infrastructure.ICorsPolicyProvider, ClientCorsPolicyProvider>();
        services.AddSingleton<GuessLimiter>();
        services.AddRateLimits();
        services.AddProblemDetails();
        // Malformed JSON or parameters answer 400 problem details in every environment, never an exception.
        services.Configure<Microsoft.AspNetCore.Routing.RouteHandlerOptions>(options => options.ThrowOnBadRequest = false);
        services.AddEndpointsApiExplorer();
        services.AddSwaggerGen(options =>
        {
            options.SwaggerDoc(Phone.PhoneApi.DocumentName, new Microsoft.OpenApi.OpenApiInfo
            {
                Title = "AuthServer phone API",
                Version = "v1",
                Description = "For the signed-in phone app: scan, approve or deny a waiting screen's login, and manage linked devices.",
            });
            options.DocInclusionPredicate((document, api) => api.GroupName == document);
        });
        services.AddAuthServerLocalization();
        services.AddRazorPages().AddMvcOptions(MalformedFieldNames.AreBadRequests).AddMvcOptions(UnreadableCheckboxes.AreUnchecked).AddViewLocalization()
            .AddDataAnnotationsLocalization(Languages.UseSharedResource);
        return builder;
    }

    private static void AddIdentity(WebApplicationBuilder builder)
    {
        builder.Services.AddIdentity<ApplicationUser, Microsoft.AspNetCore.Identity.IdentityRole>(options =>
            {
                options.SignIn.RequireConfirmedAccount = false;
                options.User.RequireUniqueEmail = true;
                options.Password.RequiredLength = 10;
                options.Lockout.AllowedForNewUsers = true;
                options.Lockout.MaxFailedAccessAttempts = 5;
                options.Lockout.DefaultLockoutTimeSpan = TimeSpan.FromMinutes(15);
            })
            .AddDefaultTokenProviders()
            .AddEntityFrameworkStores<AuthServerDbContext>()
            // Lockout on the server's clock, as every other time the server keeps.
            .AddUserManager<Areas.Identity.ServerClockUserManager>();

        builder.Services.ConfigureApplicationCookie(options =>
        {
            // The sign-in page lives where Identity's pages do (Areas/Identity); Identity's own default is /Account/Login.
            options.LoginPath = "/Identity/Account/Login";
            options.Cookie.Name = "authserver.session";
            options.Cookie.HttpOnly = true;
            options.Cookie.SameSite = SameSiteMode.Lax;
            options.SlidingExpiration = true;
            options.ExpireTimeSpan = TimeSpan.FromDays(14);
        });
    }

    /// <summary>
    /// The requester IP shown to the approving user (RFC 8628 §5.4), the guessing limit's per-address budget (§5.1)
    /// and the issuer built from the request (RFC 8414 §2) must not be spoofable: X-Forwarded-For/-Proto/-Host are
    /// honoured only from the proxies in <c>ForwardedHeaders:KnownProxies</c> or the CIDR networks in
    /// <c>ForwardedHeaders:KnownNetworks</c>, and from nobody when both are empty. Both are checked at start-up.
    /// </summary>
    private static void AddForwardedHeaders(WebApplicationBuilder builder)
    {
        var proxies = ReadList(builder.Configuration, "ForwardedHeaders:KnownProxies", "an IP address",
            (string text, out IPAddress? proxy) => IPAddress.TryParse(text, out proxy));
        // IPNetwork.TryParse would clear host bits past the prefix; 10.0.0.1/8 is more likely a mistyped proxy than a
        // wish to trust all of 10/8, so it stops start-up instead.
        var networks = ReadList(builder.Configuration, "ForwardedHeaders:KnownNetworks", "a network in CIDR notation (e.g. 10.0.0.0/8)",
            (string text, out System.Net.IPNetwork network) => System.Net.IPNetwork.TryParse(text, out network)
                && IPAddress.TryParse(text[..text.IndexOf('/')], out var written) && written.Equals(network.BaseAddress));
        builder.Services.Configure<ForwardedHeadersOptions>(options =>
        {
            options.KnownIPNetworks.Clear();
            options.KnownProxies.Clear();
            foreach (var proxy in proxies) options.KnownProxies.Add(proxy!);
            foreach (var network in networks) options.KnownIPNetworks.Add(network);
            // With both lists empty the middleware would check nobody and apply the headers from every peer.
            options.ForwardedHeaders = proxies.Count + networks.Count == 0
                ? ForwardedHeaders.None
                : ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto | ForwardedHeaders.XForwardedHost;
        });
    }

    private delegate bool TryParse<T>(string text, out T value);

    private static List<T> ReadList<T>(IConfiguration configuration, string key, string expected, TryParse<T> parse) =>
        (configuration.GetSection(key).Get<string[]>() ?? [])
            .Select(text => parse(text.Trim(), out var value) ? value
                : throw new InvalidOperationException($"{key}: '{text}' is not {expected}."))
            .ToList();

    /// <summary>
    /// The operator's appsettings files live once, at the repository root, and every build carries a copy next to the
    /// binaries. Read them from there, whatever the content root is (dotnet run, tests, a published build), keeping
    /// their place in the configuration order so environment variables and the command line still win. They are read
    /// at start-up only.
    /// </summary>
    private static void ReadOperatorSettingsFromBuildOutput(ConfigurationManager configuration)
    {
        var sources = (IList<IConfigurationSource>)configuration.Sources;
        for (var i = 0; i < sources.Count; i++)
        {
            if (sources[i] is JsonConfigurationSource { Path: { } path } json
                && path.StartsWith("appsettings", StringComparison.OrdinalIgnoreCase))
            {
                var inBuildOutput = File.Exists(System.IO.Path.Combine(AppContext.BaseDirectory, path));
                sources[i] = new JsonConfigurationSource
                {
                    Path = path,
                    Optional = json.Optional,
                    // Read once: a configuration change takes a restart. Watching would put a file watcher on the
                    // folder, which is also where the SQLite database and its write-ahead log change on every commit.
                    ReloadOnChange = false,
                    FileProvider = inBuildOutput ? new PhysicalFileProvider(AppContext.BaseDirectory) : json.FileProvider,
                };
            }
        }
    }
}
