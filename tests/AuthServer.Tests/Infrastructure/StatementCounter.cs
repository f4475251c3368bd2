using System.Collections.Concurrent;
using System.Diagnostics;
using AuthServer.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.Extensions.DependencyInjection;

namespace AuthServer.Tests.Infrastructure;

/// <summary>
/// Statements one server sends to its database file from now on: through EF Core (its diagnostic events, for this
/// server's file only, since other tests run beside this one, with each statement's text) and through the hand-written
/// lanes (counted).
/// </summary>
public sealed class StatementCounter : IObserver<DiagnosticListener>, IObserver<KeyValuePair<string, object?>>, IDisposable
{
    private readonly string _file;
    private readonly SqliteLanes _lanes;
    private readonly long _lanesBefore;
    private readonly IDisposable _all;
    private readonly List<IDisposable> _subscriptions = [];
    private readonly ConcurrentQueue<string> _texts = new();

    public StatementCounter(AuthServerFactory factory)
    {
        _file = Path.GetFullPath(factory.DatabasePath);
        _lanes = factory.Services.GetRequiredService<SqliteLanes>();
        _lanesBefore = _lanes.Statements;
        _all = DiagnosticListener.AllListeners.Subscribe(this);
    }

    public long Count => _texts.Count + _lanes.Statements - _lanesBefore;

    /// <summary>The text of each statement sent through EF Core, in order.</summary>
    public IReadOnlyList<string> EfStatements => [.. _texts];

    void IObserver<DiagnosticListener>.OnNext(DiagnosticListener listener)
    {
        if (listener.Name != DbLoggerCategory.Name) return;
        lock (_subscriptions) _subscriptions.Add(listener.Subscribe(this, name => name == RelationalEventId.CommandExecuting.Name));
    }

    void IObserver<KeyValuePair<string, object?>>.OnNext(KeyValuePair<string, object?> value)
    {
        if (value.Value is CommandEventData { Command: { Connection: { } connection } command }
            && connection.DataSource is { } source && Path.GetFullPath(source) == _file)
            _texts.Enqueue(command.CommandText);
    }

    void IObserver<DiagnosticListener>.OnCompleted() { }
    void IObserver<DiagnosticListener>.OnError(Exception error) { }
    void IObserver<KeyValuePair<string, object?>>.OnCompleted() { }
    void IObserver<KeyValuePair<string, object?>>.OnError(Exception error) { }

    public void Dispose()
    {
        _all.Dispose();
        lock (_subscriptions) _subscriptions.ForEach(s => s.Dispose());
    }
}
