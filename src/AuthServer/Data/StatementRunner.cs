using System.Data;
using System.Data.Common;

namespace AuthServer.Data;

/// <summary>
/// Runs the hand-written statements of the hot paths (<see cref="DeviceFlow.DeviceAuthorizationSql"/>) on the
/// configured database. The statements are written once, in SQL both providers accept (double-quoted identifiers,
/// <c>@name</c> parameters, <c>RETURNING</c>, <c>IS DISTINCT FROM</c>); what differs is how they reach the database:
/// on SQLite through the write gate and a lane (<see cref="SqliteStatementRunner"/>), on PostgreSQL through the shared
/// Npgsql data source, with the server's row locks deciding between concurrent writers (<see cref="NpgsqlStatementRunner"/>).
/// </summary>
public abstract class StatementRunner
{
    /// <summary>The first row a query returns, mapped; null when there is none.</summary>
    public abstract Task<T?> ReadRowAsync<T>(string sql, Action<StatementParameters> bind, Func<DbDataReader, T> map, CancellationToken cancellationToken)
        where T : class;

    /// <summary>
    /// A writing statement with <c>RETURNING</c>: the first row it returns, mapped; null when it changed nothing.
    /// </summary>
    public abstract Task<T?> WriteRowAsync<T>(string sql, Action<StatementParameters> bind, Func<DbDataReader, T> map, CancellationToken cancellationToken)
        where T : class;

    /// <summary>A writing statement without a result: how many rows it changed.</summary>
    public abstract Task<int> WriteAsync(string sql, Action<StatementParameters> bind, CancellationToken cancellationToken);
}

/// <summary>
/// Binds a statement's parameters with explicit types, so a null still has one (PostgreSQL must know it), times as Unix
/// milliseconds and enums by name, as the EF model stores them (<see cref="AuthServerDbContext"/>).
/// </summary>
public readonly struct StatementParameters(DbCommand command)
{
    public void Bind(string name, string? value) => Add(name, DbType.String, value);

    public void Bind(string name, int? value) => Add(name, DbType.Int32, value);

    public void Bind(string name, bool value) => Add(name, DbType.Boolean, value);

    public void Bind(string name, DateTimeOffset? value) => Add(name, DbType.Int64, value?.ToUnixTimeMilliseconds());

    public void Bind<TEnum>(string name, TEnum value) where TEnum : struct, Enum => Add(name, DbType.String, value.ToString());

    private void Add(string name, DbType type, object? value)
    {
        var parameter = command.CreateParameter();
        parameter.ParameterName = name;
        parameter.DbType = type;
        parameter.Value = value ?? DBNull.Value;
        command.Parameters.Add(parameter);
    }
}

/// <summary>Reading values as the EF model stores them.</summary>
public static class StatementValues
{
    public static string? StringOrNull(this DbDataReader reader, int ordinal) => reader.IsDBNull(ordinal) ? null : reader.GetString(ordinal);

    public static DateTimeOffset Time(this DbDataReader reader, int ordinal) => DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(ordinal));

    public static DateTimeOffset? TimeOrNull(this DbDataReader reader, int ordinal) =>
        reader.IsDBNull(ordinal) ? null : DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(ordinal));
}
