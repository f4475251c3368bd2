using Microsoft.Data.Sqlite;

namespace AuthServer.Data;

/// <summary>
/// SQLite's checkpoints, which copy the write-ahead log back into the database file and sync both, run here, on a
/// background thread, instead of inside the commit that happens to fill the log.
/// </summary>
/// <remarks>
/// <para>
/// By default the connection whose commit takes the log past 1,000 pages runs the checkpoint before that commit
/// returns, and with <c>synchronous=NORMAL</c> (<see cref="SqlitePragmas"/>) the checkpoint is where the file is
/// synced. On this project's machine that made about one login in thirty wait 15-20 ms longer, at the approval or the
/// redemption, whichever commit it was (docs/benchmarks.md). Every connection of ours turns the automatic checkpoint
/// off (<see cref="SqlitePragmas.Statements"/>); this service checkpoints every <see cref="Interval"/> instead.
/// </para>
/// <para>
/// First a PASSIVE checkpoint, beside the writer and the readers: it copies back what no reader still needs, which is
/// nearly all of it, and with nothing new in the log it only reads the log's header, so it needs no cue to run (an
/// admin command's writes are copied back as the server's own are). Copying alone never shortens the log: SQLite
/// starts it again from the beginning only at a write that finds every page copied and no reader still in the log,
/// and under load a reader always is, so the log grew to 760 MB in 20 s of logins. So once the log is past
/// <see cref="RestartPages"/>, the checkpointer takes the write gate, so that this process's writers wait on it
/// without a thread, and runs a RESTART checkpoint: it copies the few pages written since, and waits (at most
/// <see cref="ReaderWait"/>) for the readers still in the log to finish, after which the next write starts the log
/// again. Writers wait for that second step only, not for the copy.
/// </para>
/// <para>
/// Durability does not change: a commit in the log is recovered from it after a crash, and the file is synced at each
/// checkpoint, as before.
/// </para>
/// </remarks>
public sealed class SqliteCheckpointer(SqliteFile file, SqliteWriteGate gate, string connectionString, TimeProvider clock,
    ILogger<SqliteCheckpointer> logger) : BackgroundService
{
    /// <summary>How often the log is copied back: about the time a loaded server takes to write SQLite's 1,000 pages.</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(250);

    /// <summary>
    /// The log's length past which it is started again: 40 MB of 4 KB pages, a few seconds of writes at full load. The
    /// step holds the writers back while it copies and syncs what the copies before it left (6-15 ms under full load,
    /// docs/benchmarks.md), so it runs once in many intervals; a longer log costs disk space, not time, since a reader
    /// looks only at pages written after the last copy.
    /// </summary>
    public const long RestartPages = 10_000;

    /// <summary>How long the RESTART step waits for readers, holding the writers back, before it tries again next interval.</summary>
    public static readonly TimeSpan ReaderWait = TimeSpan.FromMilliseconds(10);

    private SqliteConnection? _connection;

    /// <summary>
    /// The log's length at the last RESTART that finished. SQLite starts the log again at the next write, so until
    /// then a PASSIVE checkpoint still reports that length, and another RESTART would take the gate for nothing.
    /// </summary>
    private long _restartedAt = -1;

    /// <summary>After each checkpoint, with what it found and did (tests, diagnostics).</summary>
    public event Action<Checkpoint>? Checkpointed;

    /// <summary>
    /// What <c>PRAGMA wal_checkpoint</c> answered: whether it could not finish (a reader or another checkpoint in the
    /// way), the log's length in pages, how many of them are now in the database file, and whether it was the RESTART
    /// step.
    /// </summary>
    public readonly record struct Checkpoint(bool Busy, long LogPages, long CopiedPages, bool Restart);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // An in-memory database has no log.
        if (file.FilePath is null) return;
        using var timer = new PeriodicTimer(Interval, clock);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            // A file deleted under the server is not written to again (SqliteFile); neither is it checkpointed.
            if (file.IsGone) continue;
            try
            {
                var copied = Run("PASSIVE");
                if (copied.LogPages >= RestartPages && copied.LogPages != _restartedAt)
                {
                    // Once more first, for what was written during that copy, so the step that holds the writers back
                    // has only a few milliseconds' worth of pages to copy and sync.
                    Run("PASSIVE");
                    using var turn = await gate.EnterAsync(stoppingToken);
                    copied = Run("RESTART");
                    _restartedAt = copied.Busy ? -1 : copied.LogPages;
                }
                Checkpointed?.Invoke(copied);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // A failed checkpoint loses nothing (the log keeps the commits), and must not stop the server with it:
                // the next interval tries again on a new connection.
                logger.LogWarning(e, "SQLite checkpoint failed; trying again in {Interval}", Interval);
                _connection?.Dispose();
                _connection = null;
            }
        }
    }

    private Checkpoint Run(string mode)
    {
        if (_connection is null)
        {
            var connection = new SqliteConnection(connectionString);
            connection.Open();
            using var setup = connection.CreateCommand();
            // SQLite's own busy handler is what lets the RESTART step wait for the readers.
            setup.CommandText = $"PRAGMA busy_timeout={(int)ReaderWait.TotalMilliseconds};";
            setup.ExecuteNonQuery();
            _connection = connection;
        }
        using var command = _connection.CreateCommand();
        command.CommandText = $"PRAGMA wal_checkpoint({mode});";
        using var reader = command.ExecuteReader();
        reader.Read();
        return new Checkpoint(reader.GetInt64(0) != 0, reader.GetInt64(1), reader.GetInt64(2), mode == "RESTART");
    }

    public override void Dispose()
    {
        _connection?.Dispose();
        base.Dispose();
    }
}
