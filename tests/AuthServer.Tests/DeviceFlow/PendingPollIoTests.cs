using System.Diagnostics;
using AuthServer.Data;
using AuthServer.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.Extensions.DependencyInjection;

namespace AuthServer.Tests.DeviceFlow;

/// <summary>
/// A waiting screen polls every few seconds for minutes (RFC 8628 §3.5), and thousands wait at once: a pending poll
/// is answered from memory. This counts every statement the server sends to its database file, through EF Core (its
/// diagnostic events, for this server's file only: other tests run beside this one) and through the hand-written
/// lanes, while a screen polls.
/// </summary>
public sealed class PendingPollIoTests : IDisposable
{
    private readonly AuthServerFactory _factory = new();

    [Fact]
    public async Task A_pending_poll_sends_no_statement_to_the_database()
    {
        var device = _factory.CreateClient();
        var started = await device.StartAsync();
        using var statements = new StatementCounter(_factory);

        for (var poll = 0; poll < 5; poll++)
        {
            _factory.Clock.Advance(TimeSpan.FromSeconds(5));
            (await device.PollAsync(started.Get("device_code"))).Error.ShouldBe("authorization_pending");
        }
        statements.Count.ShouldBe(0);

        // The counter sees the database work of the approval and of the poll that then redeems the code.
        await _factory.DecideAsDemoUserAsync(started.Get("user_code"), approve: true);
        var approval = statements.Count;
        approval.ShouldBeGreaterThan(0);
        _factory.Clock.Advance(TimeSpan.FromSeconds(5));
        (await device.PollAsync(started.Get("device_code"))).Status.ShouldBe(System.Net.HttpStatusCode.OK);
        statements.Count.ShouldBeGreaterThan(approval);
    }

    public void Dispose() => _factory.Dispose();

    /// <summary>Statements sent to one server's database file from now on.</summary>
    private sealed class StatementCounter : IObserver<DiagnosticListener>, IObserver<KeyValuePair<string, object?>>, IDisposable
    {
        private readonly string _file;
        private readonly SqliteLanes _lanes;
        private readonly long _lanesBefore;
        private readonly IDisposable _all;
        private readonly List<IDisposable> _subscriptions = [];
        private long _ef;

        public StatementCounter(AuthServerFactory factory)
        {
            _file = factory.DatabasePath;
            _lanes = factory.Services.GetRequiredService<SqliteLanes>();
            _lanesBefore = _lanes.Statements;
            _all = DiagnosticListener.AllListeners.Subscribe(this);
        }

        public long Count => Interlocked.Read(ref _ef) + _lanes.Statements - _lanesBefore;

        void IObserver<DiagnosticListener>.OnNext(DiagnosticListener listener)
        {
            if (listener.Name != DbLoggerCategory.Name) return;
            lock (_subscriptions) _subscriptions.Add(listener.Subscribe(this, name => name == RelationalEventId.CommandExecuting.Name));
        }

        void IObserver<KeyValuePair<string, object?>>.OnNext(KeyValuePair<string, object?> value)
        {
            if (value.Value is CommandEventData { Command.Connection: { } connection }
                && connection.DataSource is { } source && Path.GetFullPath(source) == Path.GetFullPath(_file))
                Interlocked.Increment(ref _ef);
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
}
