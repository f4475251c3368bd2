using System.Collections;
using System.Diagnostics;

namespace AuthServer.Hosting;

/// <summary>
/// One id per request that ties its log lines together and that a caller can quote: a well-formed incoming
/// <c>X-Correlation-Id</c> (a caller's or a proxy's own), else the W3C trace id (from <c>traceparent</c> when the caller
/// sent one, so logs and traces share it), else the request's own identifier. It is echoed in the response's <c>X-Correlation-Id</c>
/// and is the <c>CorrelationId</c> of the log scope, so every line of the request carries it.
/// </summary>
public static class CorrelationId
{
    public const string Header = "X-Correlation-Id";
    public const string ScopeKey = "CorrelationId";
    private const int MaxLength = 64;

    /// <summary>
    /// The request's correlation id. It is worked out again rather than stored: the same request gives the same
    /// answer, and nothing is allocated to keep it on every request (polls come every few seconds from every screen).
    /// </summary>
    public static string Of(HttpContext context)
    {
        if (context.Request.Headers[Header] is [{ } given] && IsWellFormed(given)) return given;
        if (Activity.Current is { } activity && activity.TraceId != default) return activity.TraceId.ToHexString();
        // ASP.NET Core makes the request's activity whenever anything logs or listens, so this is rare.
        return TraceIdOf(context.Request.Headers.TraceParent) ?? context.TraceIdentifier;
    }

    /// <summary>Puts the id back on a response whose headers were cleared (the exception handler clears them).</summary>
    public static void Echo(HttpContext context)
    {
        if (!context.Response.HasStarted) context.Response.Headers[Header] = Of(context);
    }

    /// <summary>
    /// A caller's id is taken only when it is short and made of letters, digits and <c>-_.:</c>: it goes into every
    /// log line and a response header, so nothing that could forge a line, a header or markup gets through.
    /// </summary>
    public static bool IsWellFormed(ReadOnlySpan<char> id)
    {
        if (id.IsEmpty || id.Length > MaxLength) return false;
        foreach (var c in id)
            if (!(char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or ':')) return false;
        return true;
    }

    /// <summary>
    /// The trace id of a W3C <c>traceparent</c> (version-traceid-parentid-flags), when ASP.NET Core made no activity
    /// to parse it into. An all-zero trace id is invalid (W3C Trace Context §3.2.2.3).
    /// </summary>
    public static string? TraceIdOf(string? traceparent)
    {
        if (traceparent is not { Length: 55 } || traceparent[2] != '-' || traceparent[35] != '-' || traceparent[52] != '-') return null;
        var traceId = traceparent.AsSpan(3, 32);
        foreach (var c in traceId)
            if (!char.IsAsciiHexDigitLower(c)) return null;
        return traceId.ContainsAnyExcept('0') ? traceId.ToString() : null;
    }

    /// <summary>Runs first, before the server's own pipeline, so even the exception handler's log lines carry the id.</summary>
    internal sealed class StartupFilter(ILoggerFactory loggers) : IStartupFilter
    {
        private readonly ILogger _logger = loggers.CreateLogger("AuthServer.Requests");

        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
        {
            app.Use(async (context, nextMiddleware) =>
            {
                var id = Of(context);
                context.Response.Headers[Header] = id;
                using (_logger.BeginScope(new Scope(id)))
                    await nextMiddleware(context);
            });
            next(app);
        };
    }

    /// <summary>The log scope's state: one named value, so JSON logs show <c>"CorrelationId": "…"</c>.</summary>
    private sealed class Scope(string id) : IReadOnlyList<KeyValuePair<string, object?>>
    {
        public KeyValuePair<string, object?> this[int index] =>
            index == 0 ? new(ScopeKey, id) : throw new ArgumentOutOfRangeException(nameof(index));

        public int Count => 1;

        public IEnumerator<KeyValuePair<string, object?>> GetEnumerator()
        {
            yield return this[0];
        }

        IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

        public override string ToString() => $"{ScopeKey}:{id}";
    }
}
