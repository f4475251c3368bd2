using System.Globalization;
using AuthServer.Data;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace AuthServer.Hosting;

public static class HealthEndpoints
{
    /// <summary>The tag of the checks <c>/health/ready</c> runs.</summary>
    public const string ReadyTag = "ready";

    /// <summary>
    /// <c>/health/live</c>: the process answers (also the benchmarks' trivial endpoint, through the same pipeline), so
    /// an orchestrator restarts only a process that is truly stuck, never one whose database is down.
    /// <c>/health/ready</c>: the database answers too (<see cref="DatabaseReadyCheck"/>); when it does not, 503 problem
    /// details with <c>Retry-After</c>, so a load balancer sends traffic to another node until it does.
    /// </summary>
    public static IEndpointRouteBuilder MapHealthEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapGet("/health/live", () => TypedResults.Text("ok"));
        app.MapHealthChecks("/health/ready", new HealthCheckOptions
        {
            Predicate = check => check.Tags.Contains(ReadyTag),
            ResponseWriter = WriteAsync,
        });
        return app;
    }

    private static Task WriteAsync(HttpContext context, HealthReport report)
    {
        context.Response.Headers.CacheControl = "no-store";
        if (report.Status == HealthStatus.Healthy) return context.Response.WriteAsync("ok");
        context.Response.Headers.RetryAfter = DatabaseOutage.RetryAfterSeconds.ToString(CultureInfo.InvariantCulture);
        var failure = report.Entries.Values.FirstOrDefault(entry => entry.Status != HealthStatus.Healthy);
        return TypedResults.Problem(statusCode: StatusCodes.Status503ServiceUnavailable, title: "Database unavailable",
            detail: failure.Description ?? "The database did not answer.").ExecuteAsync(context);
    }
}

/// <summary>
/// Ready when the database answers a read of the migrations table (the schema is there, on any provider) within a few
/// seconds, and no request has met a database outage in the last <see cref="DatabaseOutages.NotReadyFor"/>: with
/// SQLite, reads go on while another process holds the write lock, so only failed writes tell.
/// </summary>
public sealed class DatabaseReadyCheck(IServiceScopeFactory scopes, DatabaseOutages outages, IServiceProvider services,
    ILogger<DatabaseReadyCheck> logger) : IHealthCheck
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(3);

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        // A SQLite file deleted under the server still answers every read from the open connections: only its path tells.
        if (services.GetService<SqliteFile>() is { IsGone: true } file)
        {
            logger.LogError("The SQLite database file {Path} is gone: it was deleted or moved while the server had it open. Writes are " +
                "refused; restore the file from a backup and restart the server", file.FilePath);
            return HealthCheckResult.Unhealthy("The database file was deleted or moved while the server had it open.");
        }
        if (outages.IsRecent())
            return HealthCheckResult.Unhealthy("Requests met a database outage in the last few seconds.");
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(Timeout);
        try
        {
            await using var scope = scopes.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<AuthServerDbContext>();
            // EF answers an empty list for a database without the history table: reachable, but no schema.
            return (await db.Database.GetAppliedMigrationsAsync(deadline.Token)).Any()
                ? HealthCheckResult.Healthy()
                : HealthCheckResult.Unhealthy("The database has no AuthServer schema.");
        }
        catch (Exception error) when (DatabaseOutage.IsOutage(error) || error is System.Data.Common.DbException
            || (error is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            return HealthCheckResult.Unhealthy("The database did not answer.");
        }
    }
}
