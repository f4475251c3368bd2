using Npgsql;

namespace AuthServer.Data;

/// <summary>
/// The hot paths on PostgreSQL: each statement on a connection of the shared <see cref="NpgsqlDataSource"/>'s pool,
/// auto-prepared there (<see cref="DatabaseRegistration"/>), so a repeated statement is parsed and planned once per
/// physical connection. Nothing queues in process: a conditional UPDATE takes the row's lock, and of two concurrent
/// transitions the second re-checks its WHERE on the row the first committed, so exactly one wins.
/// </summary>
public sealed class NpgsqlStatementRunner(NpgsqlDataSource dataSource) : StatementRunner
{
    public override Task<T?> ReadRowAsync<T>(string sql, Action<StatementParameters> bind, Func<System.Data.Common.DbDataReader, T> map, CancellationToken cancellationToken)
        where T : class => RowAsync(sql, bind, map, cancellationToken);

    public override Task<T?> WriteRowAsync<T>(string sql, Action<StatementParameters> bind, Func<System.Data.Common.DbDataReader, T> map, CancellationToken cancellationToken)
        where T : class => RowAsync(sql, bind, map, cancellationToken);

    public override async Task<int> WriteAsync(string sql, Action<StatementParameters> bind, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var command = new NpgsqlCommand(sql, connection);
        bind(new StatementParameters(command));
        return await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private async Task<T?> RowAsync<T>(string sql, Action<StatementParameters> bind, Func<System.Data.Common.DbDataReader, T> map, CancellationToken cancellationToken)
        where T : class
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var command = new NpgsqlCommand(sql, connection);
        bind(new StatementParameters(command));
        await using var reader = await command.ExecuteReaderAsync(System.Data.CommandBehavior.SingleRow, cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? map(reader) : null;
    }
}
