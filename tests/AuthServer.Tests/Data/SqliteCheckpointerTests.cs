using AuthServer.Data;
using AuthServer.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace AuthServer.Tests.Data;

/// <summary>
/// The write-ahead log is checkpointed in the background on the server's clock, never by the commit that fills it:
/// with SQLite's automatic checkpoint, that commit waited for the checkpoint's syncs (docs/benchmarks.md).
/// </summary>
public sealed class SqliteCheckpointerTests(AuthServerFactory factory) : IClassFixture<AuthServerFactory>
{
    /// <summary>SQLite's default threshold for the automatic checkpoint, in pages of the log.</summary>
    private const int AutomaticThreshold = 1000;

    [Fact]
    public async Task The_servers_connections_leave_checkpoints_to_the_checkpointer()
    {
        await using (var scope = factory.Services.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<AuthServerDbContext>();
            await db.Database.OpenConnectionAsync();
            try
            {
                await using var command = db.Database.GetDbConnection().CreateCommand();
                command.CommandText = "PRAGMA wal_autocheckpoint";
                (await command.ExecuteScalarAsync()).ShouldBe(0L);
            }
            finally
            {
                await db.Database.CloseConnectionAsync();
            }
        }

        using var lane = await factory.Services.GetRequiredService<SqliteLanes>().RentAsync(CancellationToken.None);
        lane.Command("PRAGMA wal_autocheckpoint").ExecuteScalar().ShouldBe(0L);
    }

    [Fact]
    public async Task Commits_stay_in_the_log_past_sqlites_threshold_until_the_checkpointer_copies_them_back_and_starts_the_log_again()
    {
        var checkpointer = factory.Services.GetRequiredService<SqliteCheckpointer>();
        // Whatever start-up wrote is copied back first, so that the log begins again with the next commit.
        var before = await NextCheckpointAsync(checkpointer);
        before.Busy.ShouldBeFalse();
        before.CopiedPages.ShouldBe(before.LogPages);

        await using (var scope = factory.Services.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<AuthServerDbContext>();
            await db.Database.ExecuteSqlRawAsync("CREATE TABLE \"CheckpointProbe\" (\"Data\" BLOB NOT NULL)");
            // About 1,500 pages in 300 commits, each a statement of its own as most of a login's writes are.
            for (var i = 0; i < 300; i++)
                await db.Database.ExecuteSqlRawAsync("INSERT INTO \"CheckpointProbe\" (\"Data\") VALUES (randomblob(16000))");
        }

        // Had any of those commits checkpointed, the log would have started again after it, under the threshold.
        var after = await NextCheckpointAsync(checkpointer);
        after.Busy.ShouldBeFalse();
        after.LogPages.ShouldBeGreaterThan(AutomaticThreshold);
        after.CopiedPages.ShouldBe(after.LogPages);
        after.Restart.ShouldBeFalse();

        // Past the restart threshold (about 12,000 pages in 100 commits), the checkpointer holds the writers back for
        // a RESTART checkpoint, after which the next commit writes at the start of the log again.
        await using (var scope = factory.Services.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<AuthServerDbContext>();
            for (var i = 0; i < 100; i++)
                await db.Database.ExecuteSqlRawAsync("INSERT INTO \"CheckpointProbe\" (\"Data\") VALUES (randomblob(500000))");
        }
        var restarted = await NextCheckpointAsync(checkpointer);
        restarted.Busy.ShouldBeFalse();
        restarted.LogPages.ShouldBeGreaterThanOrEqualTo(SqliteCheckpointer.RestartPages);
        restarted.CopiedPages.ShouldBe(restarted.LogPages);
        restarted.Restart.ShouldBeTrue();

        // With nothing written since, the log is still that long until the next write starts it again: the next
        // interval copies nothing and leaves the writers alone.
        var idle = await NextCheckpointAsync(checkpointer);
        idle.LogPages.ShouldBe(restarted.LogPages);
        idle.Restart.ShouldBeFalse();

        await using (var scope = factory.Services.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<AuthServerDbContext>();
            (await db.Database.SqlQueryRaw<long>("SELECT COUNT(*) AS \"Value\" FROM \"CheckpointProbe\"").SingleAsync()).ShouldBe(400L);
            await db.Database.ExecuteSqlRawAsync("INSERT INTO \"CheckpointProbe\" (\"Data\") VALUES (randomblob(16000))");
        }
        var next = await NextCheckpointAsync(checkpointer);
        next.LogPages.ShouldBeInRange(1, 20);
        next.CopiedPages.ShouldBe(next.LogPages);
        next.Restart.ShouldBeFalse();
    }

    /// <summary>Moves the server's clock by one interval and waits for the checkpoint it starts.</summary>
    private async Task<SqliteCheckpointer.Checkpoint> NextCheckpointAsync(SqliteCheckpointer checkpointer)
    {
        var done = new TaskCompletionSource<SqliteCheckpointer.Checkpoint>(TaskCreationOptions.RunContinuationsAsynchronously);
        void OnCheckpointed(SqliteCheckpointer.Checkpoint checkpoint) => done.TrySetResult(checkpoint);
        checkpointer.Checkpointed += OnCheckpointed;
        try
        {
            factory.Clock.Advance(SqliteCheckpointer.Interval);
            return await done.Task.WaitAsync(TimeSpan.FromSeconds(30));
        }
        finally
        {
            checkpointer.Checkpointed -= OnCheckpointed;
        }
    }
}
