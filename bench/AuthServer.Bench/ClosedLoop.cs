using System.Diagnostics;

namespace AuthServer.Bench;

/// <summary>
/// A closed-loop load on one server for one slice of time: each worker starts its next unit of work (a login, a
/// refresh grant) as soon as the last one is done. Only the steady state is measured: the window opens once every
/// worker has finished a unit, and it counts the units finished inside it and the server CPU spent inside it, so
/// neither the ramp-up nor the drain at the end (fewer workers in flight) is in the figures. A window lasts its given
/// length and, on a server slower than that (a cold one in the smoke run), until at least one unit has finished in it.
/// </summary>
public static class ClosedLoop
{
    /// <summary>
    /// What one window measured: units finished in it, its length, the server's CPU time in it (and an external
    /// database server's, when there is one), unit latencies.
    /// </summary>
    public sealed record Slice(int Units, TimeSpan Window, TimeSpan ServerCpu, TimeSpan DatabaseCpu, List<double> LatenciesMs)
    {
        public double PerSecond => Units / Window.TotalSeconds;
    }

    /// <summary>At least this much load runs before the window opens, however fast the first units are.</summary>
    private static readonly TimeSpan MinimumRampUp = TimeSpan.FromMilliseconds(250);

    /// <summary>
    /// Runs <paramref name="unit"/> (given the worker's index) on <paramref name="workers"/> workers against the server
    /// whose CPU time <paramref name="serverCpu"/> reads (all its nodes'; <paramref name="databaseCpu"/>, its external
    /// database server's); throws if a unit fails.
    /// </summary>
    public static async Task<Slice> RunAsync(Func<TimeSpan> serverCpu, Func<TimeSpan>? databaseCpu, int workers, TimeSpan window, Func<int, Task> unit)
    {
        var clock = Stopwatch.StartNew();
        var stop = false;
        var openedAt = long.MaxValue;
        var warm = 0;
        var everyWorkerWarm = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var oneInWindow = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var finished = new List<(TimeSpan At, double LatencyMs)>[workers];

        var running = Enumerable.Range(0, workers).Select(async worker =>
        {
            var mine = finished[worker] = [];
            try
            {
                while (!Volatile.Read(ref stop))
                {
                    var started = clock.Elapsed;
                    await unit(worker);
                    var at = clock.Elapsed;
                    mine.Add((at, (at - started).TotalMilliseconds));
                    if (mine.Count == 1 && Interlocked.Increment(ref warm) == workers) everyWorkerWarm.TrySetResult();
                    if (at.Ticks >= Volatile.Read(ref openedAt)) oneInWindow.TrySetResult();
                }
            }
            catch (Exception failure)
            {
                // Ends the slice at once: a failed unit is the harness's or the server's bug, never a figure.
                everyWorkerWarm.TrySetException(failure);
                oneInWindow.TrySetException(failure);
                Volatile.Write(ref stop, true);
                throw;
            }
        }).ToList();

        TimeSpan opened, closed;
        TimeSpan cpuBefore, cpuAfter, databaseBefore, databaseAfter;
        try
        {
            await Task.WhenAll(everyWorkerWarm.Task, Task.Delay(MinimumRampUp));
            cpuBefore = serverCpu();
            databaseBefore = databaseCpu?.Invoke() ?? TimeSpan.Zero;
            opened = clock.Elapsed;
            Volatile.Write(ref openedAt, opened.Ticks);
            await Task.WhenAll(Task.Delay(window), oneInWindow.Task);
            closed = clock.Elapsed;
            cpuAfter = serverCpu();
            databaseAfter = databaseCpu?.Invoke() ?? TimeSpan.Zero;
        }
        finally
        {
            Volatile.Write(ref stop, true);
            await Task.WhenAll(running);
        }

        var inWindow = finished.SelectMany(f => f).Where(f => f.At >= opened && f.At <= closed).ToList();
        return new Slice(inWindow.Count, closed - opened, cpuAfter - cpuBefore, databaseAfter - databaseBefore, inWindow.Select(f => f.LatencyMs).ToList());
    }
}
