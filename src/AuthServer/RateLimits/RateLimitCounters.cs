using System.Collections.Concurrent;
using AuthServer.Data;

namespace AuthServer.RateLimits;

/// <summary>
/// Where fixed-window counts are kept: in this process (<see cref="MemoryRateLimitCounters"/>), or in the database
/// every node shares (<see cref="PostgreSqlRateLimitCounters"/>), so a limit holds for the cluster and not per node.
/// </summary>
public abstract class RateLimitCounters
{
    /// <summary>
    /// Adds <paramref name="permits"/> to <paramref name="key"/>'s count in its current window, opening a new window of
    /// <paramref name="window"/> at <paramref name="now"/> when the last one has ended, and returns the window with the
    /// count after the add, as one atomic step: of concurrent callers each sees a different count, so exactly one sees
    /// the count pass the limit.
    /// </summary>
    public abstract ValueTask<CountedWindow> AddAsync(string key, DateTimeOffset now, TimeSpan window, int permits, CancellationToken cancellationToken);

    /// <summary>Takes one permit back from <paramref name="key"/>'s count, if the window that began at <paramref name="windowStart"/> is still open.</summary>
    public abstract ValueTask GiveBackAsync(string key, DateTimeOffset windowStart, CancellationToken cancellationToken);

    /// <summary>Forgets windows that ended before <paramref name="now"/>; returns how many.</summary>
    public abstract ValueTask<int> PruneAsync(DateTimeOffset now, CancellationToken cancellationToken);
}

/// <summary>A partition's window after an add: when it began and ends, and its count.</summary>
public readonly record struct CountedWindow(DateTimeOffset Start, DateTimeOffset End, long Count);

/// <summary>Counts in this process: one server on SQLite, or a limit that is meant per node.</summary>
public sealed class MemoryRateLimitCounters : RateLimitCounters
{
    private sealed class Window
    {
        public DateTimeOffset Start;
        public DateTimeOffset End;
        public long Count;
    }

    private readonly ConcurrentDictionary<string, Window> _windows = new(StringComparer.Ordinal);

    public int Count => _windows.Count;

    public override ValueTask<CountedWindow> AddAsync(string key, DateTimeOffset now, TimeSpan window, int permits, CancellationToken cancellationToken) =>
        ValueTask.FromResult(Add(key, now, window, permits));

    private CountedWindow Add(string key, DateTimeOffset now, TimeSpan window, int permits)
    {
        var counted = _windows.GetOrAdd(key, static (_, start) => new Window { Start = start, End = start }, now);
        lock (counted)
        {
            if (now >= counted.End)
            {
                counted.Start = now;
                counted.End = now + window;
                counted.Count = 0;
            }
            counted.Count += permits;
            return new(counted.Start, counted.End, counted.Count);
        }
    }

    public override ValueTask GiveBackAsync(string key, DateTimeOffset windowStart, CancellationToken cancellationToken)
    {
        if (_windows.TryGetValue(key, out var window))
        {
            lock (window)
            {
                if (window.Start == windowStart && window.Count > 0) window.Count--;
            }
        }
        return ValueTask.CompletedTask;
    }

    public override ValueTask<int> PruneAsync(DateTimeOffset now, CancellationToken cancellationToken)
    {
        var pruned = 0;
        foreach (var (key, window) in _windows)
        {
            lock (window)
            {
                if (window.End <= now && _windows.TryRemove(new KeyValuePair<string, Window>(key, window))) pruned++;
            }
        }
        return ValueTask.FromResult(pruned);
    }
}

/// <summary>
/// Counts in the <c>RateLimitCounters</c> table, one row per partition holding its current window: each counted
/// event is one <c>INSERT … ON CONFLICT DO UPDATE … RETURNING</c>, which PostgreSQL runs atomically under the row's
/// lock, so nodes counting the same partition at once each get their own count back. The row holds the window, so
/// every node counts into the same one; a new window opens with the first event after the last one ended.
/// </summary>
public sealed class PostgreSqlRateLimitCounters(StatementRunner statements) : RateLimitCounters
{
    // In an ON CONFLICT DO UPDATE every column named by the table is the row as it was, so the three CASEs agree.
    private const string AddSql = """
        INSERT INTO "RateLimitCounters" ("Key", "WindowStart", "ExpiresAt", "Count")
        VALUES (@key, @now, @end, @permits)
        ON CONFLICT ("Key") DO UPDATE SET
            "Count" = CASE WHEN "RateLimitCounters"."ExpiresAt" <= excluded."WindowStart" THEN excluded."Count"
                           ELSE "RateLimitCounters"."Count" + excluded."Count" END,
            "WindowStart" = CASE WHEN "RateLimitCounters"."ExpiresAt" <= excluded."WindowStart" THEN excluded."WindowStart"
                                 ELSE "RateLimitCounters"."WindowStart" END,
            "ExpiresAt" = CASE WHEN "RateLimitCounters"."ExpiresAt" <= excluded."WindowStart" THEN excluded."ExpiresAt"
                               ELSE "RateLimitCounters"."ExpiresAt" END
        RETURNING "WindowStart", "ExpiresAt", "Count"
        """;

    private const string GiveBackSql = """
        UPDATE "RateLimitCounters" SET "Count" = "Count" - 1 WHERE "Key" = @key AND "WindowStart" = @start AND "Count" > 0
        """;

    private const string PruneSql = """DELETE FROM "RateLimitCounters" WHERE "ExpiresAt" <= @now""";

    public override async ValueTask<CountedWindow> AddAsync(string key, DateTimeOffset now, TimeSpan window, int permits, CancellationToken cancellationToken)
    {
        var row = await statements.WriteRowAsync<object>(AddSql, p =>
        {
            p.Bind("key", key);
            p.Bind("now", now);
            p.Bind("end", now + window);
            p.Bind("permits", permits);
        }, reader => new CountedWindow(reader.Time(0), reader.Time(1), reader.GetInt64(2)), cancellationToken);
        // An upsert always returns its row.
        return (CountedWindow)row!;
    }

    public override async ValueTask GiveBackAsync(string key, DateTimeOffset windowStart, CancellationToken cancellationToken) =>
        await statements.WriteAsync(GiveBackSql, p =>
        {
            p.Bind("key", key);
            p.Bind("start", windowStart);
        }, cancellationToken);

    public override async ValueTask<int> PruneAsync(DateTimeOffset now, CancellationToken cancellationToken) =>
        await statements.WriteAsync(PruneSql, p => p.Bind("now", now), cancellationToken);
}
