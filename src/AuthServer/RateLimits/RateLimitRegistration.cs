using AuthServer.Data;
using AuthServer.Dpop;
using AuthServer.Tokens;
using Microsoft.Extensions.Options;

namespace AuthServer.RateLimits;

public static class RateLimitRegistration
{
    /// <summary>
    /// The limits of <c>RateLimits</c>, and where shared state lives: on PostgreSQL the counters and the DPoP replay
    /// cache are tables every node uses; on SQLite, which one process serves, they stay in memory.
    /// </summary>
    public static IServiceCollection AddRateLimits(this IServiceCollection services)
    {
        services.AddOptions<RateLimitOptions>().BindConfiguration(RateLimitOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<RateLimitOptions>, Validation>();
        services.AddSingleton<RateLimitCounters>(provider => OnPostgreSql(provider)
            ? new PostgreSqlRateLimitCounters(provider.GetRequiredService<StatementRunner>())
            : new MemoryRateLimitCounters());
        services.AddSingleton<RateLimiters>();
        // After AddDpopProofValidation, whose default (this process's cache) it replaces.
        services.AddSingleton<IDpopReplayStore>(provider => OnPostgreSql(provider)
            ? new SharedDpopReplayStore(provider.GetRequiredService<StatementRunner>())
            : provider.GetRequiredService<DpopReplayCache>());
        return services;
    }

    private static bool OnPostgreSql(IServiceProvider provider) => provider.GetRequiredService<DatabaseInfo>().Provider == DatabaseProvider.PostgreSql;

    private sealed class Validation : IValidateOptions<RateLimitOptions>
    {
        public ValidateOptionsResult Validate(string? name, RateLimitOptions options) =>
            options.IsValid(out var problem) ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problem);
    }
}
