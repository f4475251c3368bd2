using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Time.Testing;

namespace AuthServer.Tests.Infrastructure;

/// <summary>
/// The factory's <see cref="FakeTimeProvider"/>, seen through a window: it tells when the server arms a timer. A long-lived
/// request that sleeps on the clock (the push stream waiting for its next ping or for expiry) computes its timer from
/// the time it last read; advancing the clock before that timer exists would move its due time along with it. Waiting
/// for the timer first makes <see cref="FakeTimeProvider.Advance"/> land deterministically, without any sleep.
/// </summary>
public sealed class TimerWatch(FakeTimeProvider clock) : TimeProvider
{
    private readonly Lock _gate = new();
    private readonly List<TimeSpan> _armed = [];
    private TaskCompletionSource _next = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public override DateTimeOffset GetUtcNow() => clock.GetUtcNow();

    // Elapsed time too comes from the fake clock, as it does on a server given the clock itself.
    public override long GetTimestamp() => clock.GetTimestamp();

    public override long TimestampFrequency => clock.TimestampFrequency;

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        var timer = clock.CreateTimer(callback, state, dueTime, period);
        TaskCompletionSource armed;
        lock (_gate)
        {
            _armed.Add(dueTime);
            armed = _next;
            _next = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }
        armed.TrySetResult();
        return timer;
    }

    /// <summary>How many timers were armed so far: take it before the action, pass it to <see cref="WaitForTimerAsync"/>.</summary>
    public int Mark
    {
        get { lock (_gate) return _armed.Count; }
    }

    /// <summary>Completes once a timer due in <paramref name="dueTime"/> was armed after <paramref name="since"/>.</summary>
    public async Task WaitForTimerAsync(int since, TimeSpan dueTime)
    {
        using var timeout = new CancellationTokenSource(EventStream.ReadTimeout);
        while (true)
        {
            Task next;
            lock (_gate)
            {
                for (var i = since; i < _armed.Count; i++)
                {
                    if (_armed[i] == dueTime) return;
                }
                since = _armed.Count;
                next = _next.Task;
            }
            try
            {
                await next.WaitAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                throw new ShouldAssertException($"the server armed no {dueTime.TotalSeconds} s timer");
            }
        }
    }
}

/// <summary>An <see cref="AuthServerFactory"/> whose server clock is a <see cref="TimerWatch"/> over <see cref="AuthServerFactory.Clock"/>.</summary>
public class TimerWatchingFactory : AuthServerFactory
{
    public TimerWatchingFactory() : this(AuthServer.Data.DatabaseProvider.Sqlite)
    {
    }

    protected TimerWatchingFactory(AuthServer.Data.DatabaseProvider provider) : base(provider) => Timers = new TimerWatch(Clock);

    /// <summary>The same server on PostgreSQL.</summary>
    public sealed class OnPostgreSql() : TimerWatchingFactory(AuthServer.Data.DatabaseProvider.PostgreSql);

    public TimerWatch Timers { get; }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        builder.ConfigureTestServices(services =>
        {
            services.RemoveAll<TimeProvider>();
            services.AddSingleton<TimeProvider>(Timers);
        });
    }
}
