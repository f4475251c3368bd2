using AuthServer.Data;

namespace AuthServer.Hosting;

public static class HealthEndpoints
{
    /// <summary>
    /// <c>/health/live</c>: the process answers (also the benchmarks' trivial endpoint, through the same pipeline).
    /// <c>/health/ready</c>: the database answers too.
    /// </summary>
    public static IEndpointRouteBuilder MapHealthEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapGet("/health/live", () => TypedResults.Text("ok"));
        app.MapGet("/health/ready", async (AuthServerDbContext db, CancellationToken cancellationToken) =>
            await db.Database.CanConnectAsync(cancellationToken)
                ? Results.Text("ok")
                : Results.Problem(statusCode: StatusCodes.Status503ServiceUnavailable, title: "Database unavailable"));
        return app;
    }
}
