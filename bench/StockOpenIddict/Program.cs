using Microsoft.EntityFrameworkCore;
using OpenIddict.Abstractions;
using StockOpenIddict;
using static OpenIddict.Abstractions.OpenIddictConstants;

// The benchmarks' reference: a device-flow server on OpenIddict 7.8.0 set up the way OpenIddict's own samples and
// documentation set one up (EF Core on SQLite, the development certificates, passthrough at the verification and token
// endpoints), with nothing tuned. AuthServer's figures are read as ratios to this server's, measured in the same run.
var builder = WebApplication.CreateBuilder(args);

builder.Services.AddDbContext<DbContext>(options =>
{
    options.UseSqlite(builder.Configuration.GetConnectionString("StockOpenIddict") ?? "Data Source=stock-openiddict.db");
    options.UseOpenIddict();
});

builder.Services.AddOpenIddict()
    .AddCore(core => core.UseEntityFrameworkCore().UseDbContext<DbContext>())
    .AddServer(server =>
    {
        server.SetDeviceAuthorizationEndpointUris("connect/device")
            .SetEndUserVerificationEndpointUris("connect/verify")
            .SetTokenEndpointUris("connect/token");

        server.AllowDeviceAuthorizationFlow()
            .AllowRefreshTokenFlow();

        server.AddDevelopmentEncryptionCertificate()
            .AddDevelopmentSigningCertificate();

        server.UseAspNetCore()
            .EnableEndUserVerificationEndpointPassthrough()
            .EnableTokenEndpointPassthrough()
            // The samples listen on https; the benchmark speaks plain http over loopback to every server it drives.
            .DisableTransportSecurityRequirement();
    });

builder.Services.AddAuthorization();

var app = builder.Build();

// As in the samples, the schema and the one client are created at start: a setup script's job in a real deployment.
await using (var scope = app.Services.CreateAsyncScope())
{
    await scope.ServiceProvider.GetRequiredService<DbContext>().Database.EnsureCreatedAsync();
    var applications = scope.ServiceProvider.GetRequiredService<IOpenIddictApplicationManager>();
    if (await applications.FindByClientIdAsync(StockEndpoints.ClientId) is null)
    {
        await applications.CreateAsync(new OpenIddictApplicationDescriptor
        {
            ClientId = StockEndpoints.ClientId,
            ClientType = ClientTypes.Public,
            DisplayName = "Benchmark TV",
            Permissions =
            {
                Permissions.Endpoints.DeviceAuthorization,
                Permissions.Endpoints.Token,
                Permissions.GrantTypes.DeviceCode,
                Permissions.GrantTypes.RefreshToken,
            },
        });
    }
}

// OpenIddict's ASP.NET Core host handles its endpoints inside the authentication middleware.
app.UseAuthentication();
app.UseAuthorization();
app.MapStockEndpoints();
app.Run();
