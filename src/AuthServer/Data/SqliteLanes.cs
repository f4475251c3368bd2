using System.Threading.Channels;
using Microsoft.Data.Sqlite;

namespace AuthServer.Data;

/// <summary>
/// A few long-lived SQLite connections ("lanes") for the hand-written statements of the hot paths, each keeping its
/// statements prepared. EF opens and closes a connection per request, and SQLite then compiles every statement anew
/// and EF registers its SQL functions again; on the paths every login and every refresh takes, that compiling cost
/// more than running the statements.
/// </summary>
/// <remarks>
/// A lane is rented for one operation and handed back at once; never rent a second while holding one, and never hold
/// one while signing or waiting on anything but the database. A writer takes the <see cref="SqliteWriteGate"/> first,
/// then the lane, so no lane sits idle behind the gate. A lane whose connection failed is dropped and replaced on
/// demand.
/// </remarks>
public sealed class SqliteLanes(string connectionString, int size) : IDisposable
{
    private readonly Channel<Lane> _idle = Channel.CreateUnbounded<Lane>();
    private int _open;
    private long _statements;

    /// <summary>How many statements the lanes have been handed since start: what proves a path does no I/O here.</summary>
    public long Statements => Interlocked.Read(ref _statements);

    internal void Counted() => Interlocked.Increment(ref _statements);

    public async ValueTask<Lane> RentAsync(CancellationToken cancellationToken)
    {
        if (_idle.Reader.TryRead(out var idle)) return idle;
        if (Interlocked.Increment(ref _open) <= size)
        {
            try
            {
                return Lane.Open(this, connectionString);
            }
            catch
            {
                Interlocked.Decrement(ref _open);
                throw;
            }
        }
        Interlocked.Decrement(ref _open);
        return await _idle.Reader.ReadAsync(cancellationToken);
    }

    internal void Return(Lane lane)
    {
        if (lane.Connection.State == System.Data.ConnectionState.Open && _idle.Writer.TryWrite(lane)) return;
        lane.Close();
        Interlocked.Decrement(ref _open);
    }

    public void Dispose()
    {
        _idle.Writer.TryComplete();
        while (_idle.Reader.TryRead(out var lane)) lane.Close();
    }
}

/// <summary>One open connection and the statements prepared on it. Dispose hands it back.</summary>
public sealed class Lane : IDisposable
{
    private readonly SqliteLanes _owner;
    private readonly Dictionary<string, SqliteCommand> _commands = new(StringComparer.Ordinal);

    public SqliteConnection Connection { get; }
    public SqliteTransaction? Transaction { get; private set; }

    private Lane(SqliteLanes owner, SqliteConnection connection) => (_owner, Connection) = (owner, connection);

    internal static Lane Open(SqliteLanes owner, string connectionString)
    {
        var connection = new SqliteConnection(connectionString);
        connection.Open();
        using (var pragmas = connection.CreateCommand())
        {
            // As on EF's connections: foreign keys enforced (EF turns them on itself), and SqlitePragmas.
            pragmas.CommandText = "PRAGMA foreign_keys=1; " + SqlitePragmas.Statements;
            pragmas.ExecuteNonQuery();
        }
        return new Lane(owner, connection);
    }

    /// <summary>The statement for <paramref name="sql"/>, prepared on first use, with no parameters bound yet.</summary>
    public SqliteCommand Command(string sql)
    {
        if (!_commands.TryGetValue(sql, out var command))
        {
            command = Connection.CreateCommand();
            command.CommandText = sql;
            _commands[sql] = command;
        }
        command.Parameters.Clear();
        command.Transaction = Transaction;
        _owner.Counted();
        return command;
    }

    /// <summary>BEGIN IMMEDIATE; the caller holds the write gate for the lane's connection.</summary>
    public void Begin() => Transaction = Connection.BeginTransaction();

    public void Commit()
    {
        Transaction!.Commit();
        EndTransaction();
    }

    public void Rollback()
    {
        Transaction?.Rollback();
        EndTransaction();
    }

    private void EndTransaction()
    {
        Transaction?.Dispose();
        Transaction = null;
    }

    /// <summary>Hands the lane back; a transaction left open (an exception) is rolled back first.</summary>
    public void Dispose()
    {
        if (Transaction is not null)
        {
            try { Rollback(); }
            catch (SqliteException) { Connection.Close(); }
        }
        _owner.Return(this);
    }

    internal void Close()
    {
        foreach (var command in _commands.Values) command.Dispose();
        _commands.Clear();
        Connection.Dispose();
    }
}
