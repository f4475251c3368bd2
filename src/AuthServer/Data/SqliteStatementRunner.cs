namespace AuthServer.Data;

/// <summary>
/// The hot paths on SQLite: reads on a lane, writes inside the <see cref="SqliteWriteGate"/> and then on a lane, each
/// statement kept prepared on its lane's connection. SQLite answers from the same process, so running a statement
/// synchronously costs less than an async round trip.
/// </summary>
public sealed class SqliteStatementRunner(SqliteLanes lanes, SqliteWriteGate gate) : StatementRunner
{
    public override async Task<T?> ReadRowAsync<T>(string sql, Action<StatementParameters> bind, Func<System.Data.Common.DbDataReader, T> map, CancellationToken cancellationToken)
        where T : class
    {
        using var lane = await lanes.RentAsync(cancellationToken);
        return ReadRow(lane, sql, bind, map);
    }

    /// <summary>One writing statement on a lane, inside the write gate, until it is done (reader included).</summary>
    public override async Task<T?> WriteRowAsync<T>(string sql, Action<StatementParameters> bind, Func<System.Data.Common.DbDataReader, T> map, CancellationToken cancellationToken)
        where T : class
    {
        using var turn = await gate.EnterAsync(cancellationToken);
        using var lane = await lanes.RentAsync(cancellationToken);
        return ReadRow(lane, sql, bind, map);
    }

    public override async Task<int> WriteAsync(string sql, Action<StatementParameters> bind, CancellationToken cancellationToken)
    {
        using var turn = await gate.EnterAsync(cancellationToken);
        using var lane = await lanes.RentAsync(cancellationToken);
        var command = lane.Command(sql);
        bind(new StatementParameters(command));
        return command.ExecuteNonQuery();
    }

    private static T? ReadRow<T>(Lane lane, string sql, Action<StatementParameters> bind, Func<System.Data.Common.DbDataReader, T> map) where T : class
    {
        var command = lane.Command(sql);
        bind(new StatementParameters(command));
        using var reader = command.ExecuteReader();
        return reader.Read() ? map(reader) : null;
    }
}
