using System.Collections.Concurrent;
using Trove.Application.Threading;

namespace Trove.Application.Tests.Threading;

public sealed class LowPriorityWorkersTests
{
    [Fact]
    public void Every_index_runs_once_on_the_workers_own_threads()
    {
        using var workers = new LowPriorityWorkers(3);
        var seen = new ConcurrentBag<(int Index, string? Thread)>();
        workers.For(100, i => seen.Add((i, Thread.CurrentThread.Name)), CancellationToken.None);

        Assert.Equal(Enumerable.Range(0, 100), seen.Select(s => s.Index).Order());
        Assert.All(seen, s => Assert.StartsWith("trove-low-", s.Thread, StringComparison.Ordinal));

        // The same workers serve the next call.
        var second = 0;
        workers.For(5, _ => Interlocked.Increment(ref second), CancellationToken.None);
        Assert.Equal(5, second);
    }

    [Fact]
    public void On_linux_the_work_runs_at_nice_10_and_the_callers_priority_is_untouched()
    {
        // Trove's servers and CI run on Linux; elsewhere the workers run at normal priority by design.
        Assert.True(OperatingSystem.IsLinux(), "Thread nice values are read from /proc (Linux only).");
        var before = NiceOfThisThread();
        var low = new ConcurrentBag<int>();
        using (var workers = new LowPriorityWorkers(2))
        {
            workers.For(4, _ => low.Add(NiceOfThisThread()), CancellationToken.None);
        }

        var normal = new ConcurrentBag<int>();
        using (var workers = new LowPriorityWorkers(2, lowPriority: false))
        {
            workers.For(4, _ => normal.Add(NiceOfThisThread()), CancellationToken.None);
        }

        Assert.All(low, n => Assert.Equal(before + LowPriorityWorkers.Nice, n));
        Assert.All(normal, n => Assert.Equal(before, n));
        Assert.Equal(before, NiceOfThisThread());
    }

    [Fact]
    public void A_failing_body_is_rethrown_as_it_is_and_the_rest_is_skipped()
    {
        using var workers = new LowPriorityWorkers(2);
        var ran = 0;
        var ex = Assert.Throws<InvalidOperationException>(() => workers.For(1000, i =>
        {
            Interlocked.Increment(ref ran);
            if (i == 3)
            {
                throw new InvalidOperationException("image 3 is broken");
            }
        }, CancellationToken.None));

        Assert.Equal("image 3 is broken", ex.Message);
        Assert.InRange(ran, 4, 999);

        // The workers are still usable.
        var after = 0;
        workers.For(3, _ => Interlocked.Increment(ref after), CancellationToken.None);
        Assert.Equal(3, after);
    }

    [Fact]
    public void Cancelling_stops_handing_out_work_and_throws_once_running_bodies_return()
    {
        using var workers = new LowPriorityWorkers(2);
        using var cancel = new CancellationTokenSource();
        var ran = 0;
        Assert.ThrowsAny<OperationCanceledException>(() => workers.For(1000, i =>
        {
            if (Interlocked.Increment(ref ran) == 10)
            {
                cancel.Cancel();
            }
        }, cancel.Token));

        Assert.InRange(ran, 10, 999);
    }

    [Fact]
    public void Disposing_ends_the_threads_and_later_calls_are_refused()
    {
        var workers = new LowPriorityWorkers(2);
        var threads = new ConcurrentBag<Thread>();
        workers.For(2, _ => threads.Add(Thread.CurrentThread), CancellationToken.None);
        workers.Dispose();
        workers.Dispose();

        Assert.All(threads, t => Assert.False(t.IsAlive));
        Assert.Throws<ObjectDisposedException>(() => workers.For(1, _ => { }, CancellationToken.None));
    }

    // Field 19 of /proc/thread-self/stat (counted after the parenthesised command name, which may contain spaces).
    private static int NiceOfThisThread()
    {
        var stat = File.ReadAllText("/proc/thread-self/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return int.Parse(fields[16], System.Globalization.CultureInfo.InvariantCulture);
    }
}
