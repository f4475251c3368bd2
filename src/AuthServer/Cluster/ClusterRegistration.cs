using AuthServer.Data;
using AuthServer.DeviceFlow;
using AuthServer.Hosting;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using Npgsql;

namespace AuthServer.Cluster;

/// <summary>
/// What several nodes need, by provider. PostgreSQL: the LISTEN/NOTIFY bus, its listener, its readiness check, and
/// the polling bookkeeping kept in the database row. SQLite (one node): the in-process bus, which does nothing, and
/// the bookkeeping in memory, so a pending poll there still reads and writes nothing.
/// </summary>
public static class ClusterRegistration
{
    public static void AddCluster(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        if (DatabaseRegistration.ReadProvider(builder.Configuration) != DatabaseProvider.PostgreSql)
        {
            services.AddSingleton<ClusterEvents, InProcessEvents>();
            services.AddSingleton<PendingPolls, InMemoryPendingPolls>();
            return;
        }

        services.AddOptions<ClusterOptions>().BindConfiguration(ClusterOptions.Section)
            .Validate(o => o.NotReadyAfter > TimeSpan.Zero && o.ReloadInterval > TimeSpan.Zero,
                "Cluster: NotReadyAfter and ReloadInterval must be positive.")
            .ValidateOnStart();
        var connectionString = builder.Configuration.GetConnectionString(AuthServerServices.ConnectionStringName)!;
        services.AddSingleton(provider => new PostgreSqlEvents(provider.GetRequiredService<NpgsqlDataSource>(), connectionString,
            provider.GetRequiredService<TimeProvider>(), provider.GetRequiredService<ILogger<PostgreSqlEvents>>()));
        services.AddSingleton<ClusterEvents>(provider => provider.GetRequiredService<PostgreSqlEvents>());
        services.AddSingleton<ClusterEventHandler>();
        services.AddHostedService<ClusterListener>();
        services.AddSingleton<PendingPolls, DatabasePendingPolls>();
        services.AddHealthChecks().AddCheck<ClusterReadyCheck>("cluster", tags: [HealthEndpoints.ReadyTag]);
    }
}

/// <summary>
/// Not ready once the notification connection has been down for <see cref="ClusterOptions.NotReadyAfter"/>: polls
/// still answer right (they read the row), but this node's push streams would not hear other nodes' scans and
/// decisions, so the load balancer should send screens elsewhere. A short drop stays ready: it reconnects and
/// catches up.
/// </summary>
public sealed class ClusterReadyCheck(ClusterEvents events, IOptions<ClusterOptions> options, TimeProvider clock) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var since = events.NotListeningSince;
        return Task.FromResult(since is { } down && clock.GetUtcNow() - down >= options.Value.NotReadyAfter
            ? HealthCheckResult.Unhealthy($"This node has not been listening to the other nodes' events for {(clock.GetUtcNow() - down).TotalSeconds:0} s.")
            : HealthCheckResult.Healthy());
    }
}
