using System.Data.Common;
using AuthServer.Hosting;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;

namespace AuthServer.Tests.Telemetry;

/// <summary>Which failures are the database's temporary trouble (503) and which are bugs (still 500).</summary>
public sealed class DatabaseOutageClassificationTests
{
    private sealed class ProviderException(string? sqlState, bool transient) : DbException("provider failure")
    {
        public override string? SqlState => sqlState;
        public override bool IsTransient => transient;
    }

    [Theory]
    [InlineData(5, "database is locked")]
    [InlineData(261, "database is locked (SQLITE_BUSY_RECOVERY)")]
    [InlineData(6, "database table is locked")]
    [InlineData(8, "attempt to write a readonly database")]
    [InlineData(10, "disk I/O error")]
    [InlineData(13, "database or disk is full")]
    [InlineData(14, "unable to open database file")]
    public void SQLites_busy_locked_read_only_io_full_and_cannot_open_are_outages(int code, string message)
    {
        DatabaseOutage.IsOutage(new SqliteException(message, code)).ShouldBeTrue();
        // However EF or OpenIddict wrapped it.
        DatabaseOutage.IsOutage(new DbUpdateException("An error occurred while saving.", new SqliteException(message, code))).ShouldBeTrue();
        DatabaseOutage.IsOutage(new InvalidOperationException("wrapped", new AggregateException(new SqliteException(message, code)))).ShouldBeTrue();
    }

    [Theory]
    [InlineData(19, "UNIQUE constraint failed")]
    [InlineData(1, "no such table")]
    public void A_constraint_or_sql_error_is_a_bug_not_an_outage(int code, string message)
    {
        DatabaseOutage.IsOutage(new SqliteException(message, code)).ShouldBeFalse();
        DatabaseOutage.IsOutage(new DbUpdateException("An error occurred while saving.", new SqliteException(message, code))).ShouldBeFalse();
    }

    [Theory]
    [InlineData("08006", true)]   // connection failure
    [InlineData("57P01", true)]   // admin shutdown
    [InlineData("57P03", true)]   // cannot connect now (starting up)
    [InlineData("53100", true)]   // disk full
    [InlineData("53300", true)]   // too many connections
    [InlineData("58030", true)]   // I/O error
    [InlineData("25006", true)]   // read-only transaction (a standby)
    [InlineData("40001", true)]   // serialization failure
    [InlineData("57014", true)]   // statement timeout
    [InlineData("23505", false)]  // unique violation: a bug
    [InlineData("42P01", false)]  // undefined table: a bug
    public void PostgreSQLs_connection_shutdown_resource_and_io_states_are_outages(string sqlState, bool outage) =>
        DatabaseOutage.IsOutage(new DbUpdateException("wrapped", new ProviderException(sqlState, transient: false))).ShouldBe(outage);

    [Fact]
    public void A_provider_exception_marked_transient_and_a_timeout_are_outages_other_failures_are_not()
    {
        DatabaseOutage.IsOutage(new ProviderException(null, transient: true)).ShouldBeTrue();
        DatabaseOutage.IsOutage(new InvalidOperationException("pool exhausted", new TimeoutException())).ShouldBeTrue();
        DatabaseOutage.IsOutage(new ProviderException(null, transient: false)).ShouldBeFalse();
        DatabaseOutage.IsOutage(new OperationCanceledException()).ShouldBeFalse();
        DatabaseOutage.IsOutage(new InvalidOperationException("a bug")).ShouldBeFalse();
        DatabaseOutage.IsOutage(null).ShouldBeFalse();
    }
}
