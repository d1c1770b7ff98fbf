using System.Collections.Concurrent;
using System.Runtime.ExceptionServices;
using System.Runtime.InteropServices;

namespace Trove.Application.Threading;

/// <summary>
/// A few dedicated threads for CPU work that should yield to more urgent work on the same cores: on Linux each thread
/// raises its own nice value (+10, per thread through <c>setpriority(PRIO_PROCESS, gettid())</c>), so the scheduler gives
/// the CPU to normal-priority threads first — ONNX Runtime's operator threads, whose parallel loops stall when one of
/// them is preempted, and the web server's requests. The threads are the pool's own and end with it (an unprivileged
/// thread cannot lower its nice value again, so shared thread-pool threads must never be used for this).
/// Elsewhere, or when the call is refused, the threads run at normal priority.
/// </summary>
public sealed class LowPriorityWorkers : IDisposable
{
    /// <summary>The nice value the threads take (0 = normal, 19 = lowest).</summary>
    public const int Nice = 10;

    private readonly BlockingCollection<Work> _queue = new();
    private readonly Thread[] _threads;
    private bool _disposed;

    /// <param name="count">Threads (at least one).</param>
    /// <param name="lowPriority">False: normal priority (the same threads, for comparison and for hosts that want it).</param>
    public LowPriorityWorkers(int count, bool lowPriority = true)
    {
        LowPriority = lowPriority;
        _threads = new Thread[Math.Max(1, count)];
        for (var i = 0; i < _threads.Length; i++)
        {
            _threads[i] = new Thread(Loop) { IsBackground = true, Name = $"trove-low-{i}" };
            _threads[i].Start();
        }
    }

    public int Count => _threads.Length;

    public bool LowPriority { get; }

    /// <summary>
    /// Runs <paramref name="body"/> for 0 … <paramref name="count"/> − 1 on the workers and waits for all of them. The
    /// first exception a body throws is rethrown as it is (the remaining indices are skipped); cancellation stops handing
    /// out indices and throws <see cref="OperationCanceledException"/> once the bodies already running have returned.
    /// </summary>
    public void For(int count, Action<int> body, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(body);
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (count <= 0)
        {
            return;
        }

        var helpers = Math.Min(_threads.Length, count);
        using var work = new Work(count, helpers, body, ct);
        for (var i = 0; i < helpers; i++)
        {
            _queue.Add(work, CancellationToken.None);
        }

        work.Done.Wait(CancellationToken.None);
        if (work.Error is { } error)
        {
            ExceptionDispatchInfo.Throw(error);
        }

        ct.ThrowIfCancellationRequested();
    }

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        _queue.CompleteAdding();
        foreach (var thread in _threads)
        {
            thread.Join();
        }

        _queue.Dispose();
    }

    private void Loop()
    {
        if (LowPriority && OperatingSystem.IsLinux())
        {
            // Refused (a seccomp profile, say): the work still runs, at normal priority.
            _ = SetPriority(PrioProcess, GetTid(), Nice);
        }

        foreach (var work in _queue.GetConsumingEnumerable())
        {
            work.RunShare();
        }
    }

    private const int PrioProcess = 0;

    // Two plain int calls into the C library (DllImport, so this project needs no unsafe code).
    [DllImport("libc", EntryPoint = "gettid")]
    private static extern int GetTid();

    [DllImport("libc", EntryPoint = "setpriority")]
    private static extern int SetPriority(int which, int who, int priority);

    private sealed class Work(int count, int helpers, Action<int> body, CancellationToken ct) : IDisposable
    {
        private int _next = -1;
        private Exception? _error;

        public CountdownEvent Done { get; } = new(helpers);

        public Exception? Error => Volatile.Read(ref _error);

        public void RunShare()
        {
            try
            {
                int i;
                while (Error is null && !ct.IsCancellationRequested && (i = Interlocked.Increment(ref _next)) < count)
                {
                    try
                    {
                        body(i);
                    }
                    catch (Exception ex)
                    {
                        Interlocked.CompareExchange(ref _error, ex, null);
                    }
                }
            }
            finally
            {
                Done.Signal();
            }
        }

        public void Dispose() => Done.Dispose();
    }
}
