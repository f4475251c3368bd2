using AuthServer.Data;
using Microsoft.Data.Sqlite;

namespace AuthServer.Tests.Data;

/// <summary>The hot paths' own connections: bounded, statements kept, and a lane handed back mid-transaction rolls back.</summary>
public sealed class SqliteLanesTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("authserver-lanes-").FullName;
    private string ConnectionString => $"Data Source={Path.Combine(_directory, "lanes.db")};Pooling=False";

    public SqliteLanesTests()
    {
        using var connection = new SqliteConnection(ConnectionString);
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA journal_mode=WAL; CREATE TABLE \"Items\" (\"Id\" INTEGER PRIMARY KEY, \"Name\" TEXT NOT NULL);";
        command.ExecuteNonQuery();
    }

    [Fact]
    public async Task A_lane_keeps_its_prepared_statement_and_binds_fresh_parameters_each_time()
    {
        using var lanes = new SqliteLanes(ConnectionString, size: 1);
        using (var lane = await lanes.RentAsync(CancellationToken.None))
        {
            foreach (var name in new[] { "a", "b" })
            {
                var insert = lane.Command("INSERT INTO \"Items\" (\"Name\") VALUES ($name)");
                insert.Parameters.AddWithValue("$name", name);
                insert.ExecuteNonQuery();
            }
            lane.Command("INSERT INTO \"Items\" (\"Name\") VALUES ($name)").ShouldBeSameAs(lane.Command("INSERT INTO \"Items\" (\"Name\") VALUES ($name)"));
        }

        using var again = await lanes.RentAsync(CancellationToken.None);
        var names = again.Command("SELECT group_concat(\"Name\", ',') FROM \"Items\"");
        names.ExecuteScalar().ShouldBe("a,b");
    }

    [Fact]
    public async Task A_lane_handed_back_inside_a_transaction_rolls_it_back()
    {
        using var lanes = new SqliteLanes(ConnectionString, size: 1);
        using (var lane = await lanes.RentAsync(CancellationToken.None))
        {
            lane.Begin();
            lane.Command("INSERT INTO \"Items\" (\"Name\") VALUES ('abandoned')").ExecuteNonQuery();
            // No commit: an exception in a handler leaves it like this.
        }

        using var again = await lanes.RentAsync(CancellationToken.None);
        again.Transaction.ShouldBeNull();
        again.Command("SELECT count(*) FROM \"Items\"").ExecuteScalar().ShouldBe(0L);
    }

    [Fact]
    public async Task No_more_than_size_lanes_are_open_and_a_renter_waits_for_one_to_come_back()
    {
        using var lanes = new SqliteLanes(ConnectionString, size: 2);
        var first = await lanes.RentAsync(CancellationToken.None);
        var second = await lanes.RentAsync(CancellationToken.None);

        var third = lanes.RentAsync(CancellationToken.None).AsTask();
        third.IsCompleted.ShouldBeFalse();

        first.Dispose();
        (await third).ShouldBeSameAs(first);
        second.Dispose();
        (await third).Dispose();
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);
}
