using System.Data.Common;
using System.Globalization;
using AuthServer.Protocol;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.Data.Sqlite;

namespace AuthServer.Hosting;

/// <summary>
/// A database that does not answer, or refuses to write, is the server's temporary trouble, not a bug: it answers 503
/// with <c>Retry-After</c> (RFC 9110 §15.6.4, §10.2.3) instead of 500, and the next request tries the database again,
/// so service comes back by itself when the database does. Provider-neutral: SQLite's busy, locked, read-only, I/O,
/// full and cannot-open results; any <see cref="DbException"/> its provider calls transient (Npgsql does for broken
/// connections); PostgreSQL's SQLSTATE classes for connection loss, shutdown, resources and I/O; and timeouts, however
/// EF or OpenIddict wrapped them.
/// </summary>
public static class DatabaseOutage
{
    /// <summary>Seconds a caller should wait before trying again.</summary>
    public const int RetryAfterSeconds = 5;

    public static bool IsOutage(Exception? error)
    {
        for (var depth = 0; error is not null && depth < 16; depth++, error = error.InnerException)
        {
            switch (error)
            {
                case SqliteException sqlite when IsSqliteOutage(sqlite.SqliteErrorCode):
                case DbException { IsTransient: true }:
                case DbException { SqlState: { } state } when IsSqlStateOutage(state):
                case TimeoutException:
                    return true;
                case AggregateException aggregate when aggregate.InnerExceptions.Any(IsOutage):
                    return true;
            }
        }
        return false;
    }

    /// <summary>SQLite's primary result codes (the low byte of an extended one) for a file that cannot be used now.</summary>
    private static bool IsSqliteOutage(int code) => (code & 0xFF) is
        5      // SQLITE_BUSY: another connection holds the write lock ("database is locked")
        or 6   // SQLITE_LOCKED: a conflicting lock in this process
        or 8   // SQLITE_READONLY: the file or its folder is read-only
        or 10  // SQLITE_IOERR: the disk failed the read or write
        or 13  // SQLITE_FULL: the disk is full
        or 14; // SQLITE_CANTOPEN: the file cannot be opened

    /// <summary>
    /// PostgreSQL's SQLSTATEs (its manual, appendix A): 08 connection exceptions, 53 insufficient resources (disk full,
    /// out of memory, too many connections), 57P01–57P03 shutdown and "cannot connect now", 57014 a statement timeout,
    /// 58 system and I/O errors, 25006 a read-only transaction (a standby), 40001/40P01 serialization failure and
    /// deadlock, 55P03 a lock not available in time.
    /// </summary>
    private static bool IsSqlStateOutage(string state) =>
        state.StartsWith("08", StringComparison.Ordinal) || state.StartsWith("53", StringComparison.Ordinal)
        || state.StartsWith("58", StringComparison.Ordinal) || state.StartsWith("57P", StringComparison.Ordinal)
        || state is "57014" or "25006" or "40001" or "40P01" or "55P03";

    /// <summary>
    /// The answer, in the caller's language: RFC 6749 §5.2-style JSON with <c>temporarily_unavailable</c> (the code
    /// RFC 6749 §4.1.2.1 defines for this) on the protocol endpoints, a friendly page for a browser, and RFC 9457
    /// problem details for the JSON APIs.
    /// </summary>
    public static async Task WriteAsync(HttpContext context)
    {
        var response = context.Response;
        response.Headers.RetryAfter = RetryAfterSeconds.ToString(CultureInfo.InvariantCulture);
        var door = ErrorPage.DoorOf(context.Request);
        if (door == ErrorPage.Door.OAuth)
        {
            await new OAuthError("temporarily_unavailable",
                "The server cannot reach its database right now. Try again in a few seconds.", StatusCodes.Status503ServiceUnavailable)
                .ExecuteAsync(context);
        }
        else if (door == ErrorPage.Door.Page)
        {
            await ErrorPage.WriteAsync(context, StatusCodes.Status503ServiceUnavailable, "Back in a moment",
                "AuthServer cannot finish this right now. Nothing you did is lost; wait a few seconds, then go back and try again.");
        }
        else
        {
            response.Headers.CacheControl = "no-store";
            await TypedResults.Problem(statusCode: StatusCodes.Status503ServiceUnavailable, title: "Service temporarily unavailable",
                detail: $"The server cannot reach its database right now. Try again in {RetryAfterSeconds} seconds.").ExecuteAsync(context);
        }
    }
}

/// <summary>When the last database outage was answered: the readiness check reports it for a short while.</summary>
public sealed class DatabaseOutages(TimeProvider clock)
{
    /// <summary>How long after an outage the node reports itself not ready, so a load balancer sends traffic elsewhere.</summary>
    public static readonly TimeSpan NotReadyFor = TimeSpan.FromSeconds(2 * DatabaseOutage.RetryAfterSeconds);

    private long _lastTicks = long.MinValue;

    public void Record() => Interlocked.Exchange(ref _lastTicks, clock.GetUtcNow().UtcTicks);

    public bool IsRecent()
    {
        var last = Interlocked.Read(ref _lastTicks);
        return last != long.MinValue && clock.GetUtcNow().UtcTicks - last < NotReadyFor.Ticks;
    }
}

/// <summary>
/// Runs before the pipeline's own error writer (<see cref="AuthServerPipeline"/>), which keeps every other failure.
/// Like that writer, it puts the correlation id back on the response, whose headers the exception handler has cleared.
/// </summary>
public sealed class DatabaseOutageHandler(DatabaseOutages outages, ILogger<DatabaseOutageHandler> logger) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext context, Exception exception, CancellationToken cancellationToken)
    {
        if (!DatabaseOutage.IsOutage(exception)) return false;
        CorrelationId.Echo(context);
        outages.Record();
        // The message only: the exception's text names the failure (e.g. "database is locked"), never a value.
        logger.LogWarning("The database is unavailable ({Failure}); answered 503 to {Method} {Path}",
            Innermost(exception).Message, context.Request.Method, context.Request.Path.Value);
        await DatabaseOutage.WriteAsync(context);
        return true;
    }

    private static Exception Innermost(Exception error)
    {
        while (error.InnerException is { } inner) error = inner;
        return error;
    }
}
