using System.Data.Common;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;

namespace AuthServer.Data;

/// <summary>
/// Lets one writer at a time into the SQLite file, in process, and makes the others wait without holding a thread.
/// </summary>
/// <remarks>
/// SQLite has a single writer. When two connections race for it, the loser gets SQLITE_BUSY and the driver retries
/// after sleeping on its thread. Under load that sleep dominated: whole flows sat at half the machine idle with p99
/// near a second, and the blocked threads starved the thread pool. Queuing the writers on an async lock before they
/// reach SQLite turns that into a short, fair wait. Reads never take the gate: write-ahead logging lets them run beside
/// the writer.
///
/// A writer is an explicit transaction (held from BEGIN to COMMIT, ROLLBACK or the connection closing) or a single
/// INSERT, UPDATE or DELETE outside one (held until the command or its reader ends). Another process on the same
/// file, such as an admin command, is still handled by SQLite's own busy retry. The wait is bounded: past
/// <see cref="MaxWait"/> a writer goes ahead and leaves the outcome to SQLite, so a writer that waits on a second
/// connection inside its own transaction fails as it would have without the gate, instead of hanging.
/// </remarks>
public sealed class SqliteWriteGate : DbConnectionInterceptor, IDbTransactionInterceptor, IDbCommandInterceptor,
    IObserver<DiagnosticListener>, IObserver<KeyValuePair<string, object?>>, IDisposable
{
    public static readonly TimeSpan MaxWait = TimeSpan.FromSeconds(30);

    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly IDisposable _allListeners;
    private readonly List<IDisposable> _subscriptions = [];

    /// <summary>The file the writers write to, checked before each writer goes in (<see cref="SqliteFile"/>); none in unit tests.</summary>
    private readonly SqliteFile? _file;

    public SqliteWriteGate() : this(null)
    {
    }

    public SqliteWriteGate(SqliteFile? file)
    {
        _file = file;
        _allListeners = DiagnosticListener.AllListeners.Subscribe(this);
    }

    /// <summary>Whether some writer is inside now.</summary>
    public bool IsHeld => _gate.CurrentCount == 0;
    private readonly ConditionalWeakTable<DbConnection, Holding> _holdings = new();
    private readonly ConditionalWeakTable<DbTransaction, Holding> _transactions = new();

    /// <summary>Whether a connection is inside the gate, and why.</summary>
    internal sealed class Holding
    {
        public bool Held;
        public bool ForTransaction;
    }

    // Transactions: held from start to end.
    public InterceptionResult<DbTransaction> TransactionStarting(
        DbConnection connection, TransactionStartingEventData eventData, InterceptionResult<DbTransaction> result)
    {
        Enter(connection, forTransaction: true);
        return result;
    }

    public async ValueTask<InterceptionResult<DbTransaction>> TransactionStartingAsync(
        DbConnection connection, TransactionStartingEventData eventData, InterceptionResult<DbTransaction> result,
        CancellationToken cancellationToken = default)
    {
        await EnterAsync(connection, forTransaction: true, cancellationToken);
        return result;
    }

    // After commit a transaction no longer names its connection, so the holding is remembered per transaction too.
    public DbTransaction TransactionStarted(DbConnection connection, TransactionEndEventData eventData, DbTransaction result)
    {
        Remember(connection, result);
        return result;
    }

    public ValueTask<DbTransaction> TransactionStartedAsync(
        DbConnection connection, TransactionEndEventData eventData, DbTransaction result, CancellationToken cancellationToken = default)
    {
        Remember(connection, result);
        return ValueTask.FromResult(result);
    }

    public void TransactionCommitted(DbTransaction transaction, TransactionEndEventData eventData) => Leave(transaction);

    public Task TransactionCommittedAsync(DbTransaction transaction, TransactionEndEventData eventData, CancellationToken cancellationToken = default)
    {
        Leave(transaction);
        return Task.CompletedTask;
    }

    public void TransactionRolledBack(DbTransaction transaction, TransactionEndEventData eventData) => Leave(transaction);

    public Task TransactionRolledBackAsync(DbTransaction transaction, TransactionEndEventData eventData, CancellationToken cancellationToken = default)
    {
        Leave(transaction);
        return Task.CompletedTask;
    }

    public void TransactionFailed(DbTransaction transaction, TransactionErrorEventData eventData) => Leave(transaction);

    public Task TransactionFailedAsync(DbTransaction transaction, TransactionErrorEventData eventData, CancellationToken cancellationToken = default)
    {
        Leave(transaction);
        return Task.CompletedTask;
    }

    // A transaction disposed without commit or rollback (an exception, a cancelled request): EF has no interceptor
    // for that, but it reports it to its diagnostic listener. The connection may stay open (kept for the request), so
    // its closing cannot be relied on.
    private static readonly string TransactionDisposed = RelationalEventId.TransactionDisposed.Name!;

    void IObserver<DiagnosticListener>.OnNext(DiagnosticListener listener)
    {
        if (listener.Name != DbLoggerCategory.Name) return;
        lock (_subscriptions) _subscriptions.Add(listener.Subscribe(this, name => name == TransactionDisposed));
    }

    void IObserver<KeyValuePair<string, object?>>.OnNext(KeyValuePair<string, object?> value)
    {
        if (value.Key == TransactionDisposed && value.Value is TransactionEventData { Transaction: { } transaction }) Leave(transaction);
    }

    void IObserver<DiagnosticListener>.OnCompleted() { }
    void IObserver<DiagnosticListener>.OnError(Exception error) { }
    void IObserver<KeyValuePair<string, object?>>.OnCompleted() { }
    void IObserver<KeyValuePair<string, object?>>.OnError(Exception error) { }

    public void Dispose()
    {
        _allListeners.Dispose();
        lock (_subscriptions) _subscriptions.ForEach(s => s.Dispose());
    }

    // When EF closes a connection it opened for a transaction, whatever the connection held is over too.
    public override void ConnectionClosed(DbConnection connection, ConnectionEndEventData eventData) => Leave(connection);

    public override Task ConnectionClosedAsync(DbConnection connection, ConnectionEndEventData eventData)
    {
        Leave(connection);
        return Task.CompletedTask;
    }

    // Single statements outside a transaction: held while the statement runs.
    public InterceptionResult<int> NonQueryExecuting(DbCommand command, CommandEventData eventData, InterceptionResult<int> result)
    {
        if (IsWrite(command)) Enter(command.Connection!, forTransaction: false);
        return result;
    }

    public async ValueTask<InterceptionResult<int>> NonQueryExecutingAsync(
        DbCommand command, CommandEventData eventData, InterceptionResult<int> result, CancellationToken cancellationToken = default)
    {
        if (IsWrite(command)) await EnterAsync(command.Connection!, forTransaction: false, cancellationToken);
        return result;
    }

    public int NonQueryExecuted(DbCommand command, CommandExecutedEventData eventData, int result)
    {
        LeaveStatement(command);
        return result;
    }

    public ValueTask<int> NonQueryExecutedAsync(DbCommand command, CommandExecutedEventData eventData, int result, CancellationToken cancellationToken = default)
    {
        LeaveStatement(command);
        return ValueTask.FromResult(result);
    }

    public InterceptionResult<DbDataReader> ReaderExecuting(DbCommand command, CommandEventData eventData, InterceptionResult<DbDataReader> result)
    {
        if (IsWrite(command)) Enter(command.Connection!, forTransaction: false);
        return result;
    }

    public async ValueTask<InterceptionResult<DbDataReader>> ReaderExecutingAsync(
        DbCommand command, CommandEventData eventData, InterceptionResult<DbDataReader> result, CancellationToken cancellationToken = default)
    {
        if (IsWrite(command)) await EnterAsync(command.Connection!, forTransaction: false, cancellationToken);
        return result;
    }

    // INSERT … RETURNING is read through a reader: the statement is done when the reader is.
    public InterceptionResult DataReaderDisposing(DbCommand command, DataReaderDisposingEventData eventData, InterceptionResult result)
    {
        LeaveStatement(command);
        return result;
    }

    public InterceptionResult<object> ScalarExecuting(DbCommand command, CommandEventData eventData, InterceptionResult<object> result)
    {
        if (IsWrite(command)) Enter(command.Connection!, forTransaction: false);
        return result;
    }

    public async ValueTask<InterceptionResult<object>> ScalarExecutingAsync(
        DbCommand command, CommandEventData eventData, InterceptionResult<object> result, CancellationToken cancellationToken = default)
    {
        if (IsWrite(command)) await EnterAsync(command.Connection!, forTransaction: false, cancellationToken);
        return result;
    }

    public object? ScalarExecuted(DbCommand command, CommandExecutedEventData eventData, object? result)
    {
        LeaveStatement(command);
        return result;
    }

    public ValueTask<object?> ScalarExecutedAsync(DbCommand command, CommandExecutedEventData eventData, object? result, CancellationToken cancellationToken = default)
    {
        LeaveStatement(command);
        return ValueTask.FromResult(result);
    }

    public void CommandFailed(DbCommand command, CommandErrorEventData eventData) => LeaveStatement(command);

    public Task CommandFailedAsync(DbCommand command, CommandErrorEventData eventData, CancellationToken cancellationToken = default)
    {
        LeaveStatement(command);
        return Task.CompletedTask;
    }

    public void CommandCanceled(DbCommand command, CommandEndEventData eventData) => LeaveStatement(command);

    public Task CommandCanceledAsync(DbCommand command, CommandEndEventData eventData, CancellationToken cancellationToken = default)
    {
        LeaveStatement(command);
        return Task.CompletedTask;
    }

    /// <summary>Statements that take SQLite's write lock. EF writes them in upper case; anything else is a read.</summary>
    private static bool IsWrite(DbCommand command)
    {
        var text = command.CommandText.AsSpan().TrimStart();
        return text.StartsWith("INSERT", StringComparison.OrdinalIgnoreCase)
            || text.StartsWith("UPDATE", StringComparison.OrdinalIgnoreCase)
            || text.StartsWith("DELETE", StringComparison.OrdinalIgnoreCase)
            || text.StartsWith("REPLACE", StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>
    /// For hand-written statements on a lane, which EF's interceptors do not see: waits for the gate, and holds it until
    /// the lease is disposed. Take the gate before renting the lane, so a writer waiting here holds no connection.
    /// </summary>
    public async ValueTask<Lease> EnterAsync(CancellationToken cancellationToken)
    {
        _file?.ThrowIfGone();
        var holding = new Holding { Held = await _gate.WaitAsync(MaxWait, cancellationToken) };
        return new Lease(this, holding);
    }

    /// <summary>A hand-written writer's hold on the gate.</summary>
    public readonly struct Lease : IDisposable
    {
        private readonly SqliteWriteGate? _gate;
        private readonly Holding? _holding;

        internal Lease(SqliteWriteGate gate, Holding holding) => (_gate, _holding) = (gate, holding);

        public void Dispose()
        {
            if (_holding is { Held: true, ForTransaction: false }) _gate!.Release(_holding);
        }
    }

    private void Enter(DbConnection connection, bool forTransaction)
    {
        var holding = _holdings.GetOrCreateValue(connection);
        if (holding.Held) return;
        _file?.ThrowIfGone();
        holding.Held = _gate.Wait(MaxWait);
        holding.ForTransaction = forTransaction;
    }

    private async ValueTask EnterAsync(DbConnection connection, bool forTransaction, CancellationToken cancellationToken)
    {
        var holding = _holdings.GetOrCreateValue(connection);
        if (holding.Held) return;
        _file?.ThrowIfGone();
        holding.Held = await _gate.WaitAsync(MaxWait, cancellationToken);
        holding.ForTransaction = forTransaction;
    }

    private void LeaveStatement(DbCommand command)
    {
        if (command.Connection is { } connection && _holdings.TryGetValue(connection, out var holding) && holding is { Held: true, ForTransaction: false })
            Release(holding);
    }

    private void Remember(DbConnection connection, DbTransaction transaction)
    {
        if (_holdings.TryGetValue(connection, out var holding)) _transactions.AddOrUpdate(transaction, holding);
    }

    private void Leave(DbTransaction transaction)
    {
        if (_transactions.TryGetValue(transaction, out var holding) && holding.Held) Release(holding);
    }

    private void Leave(DbConnection? connection)
    {
        if (connection is not null && _holdings.TryGetValue(connection, out var holding) && holding.Held) Release(holding);
    }

    private void Release(Holding holding)
    {
        holding.Held = false;
        holding.ForTransaction = false;
        _gate.Release();
    }
}
