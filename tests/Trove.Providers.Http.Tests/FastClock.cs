using System.Collections.Concurrent;
using System.Diagnostics;

namespace Trove.Providers.Http.Tests;

/// <summary>
/// Real time, sped up: every clock reading and every timer runs <see cref="Speed"/> times faster than the wall clock,
/// consistently (a 2 s Retry-After passes in 2 s of this clock, 100 ms of real time at 20×). The client, Polly's
/// delays and timeouts, the rate limiter and the fake server all run on it, so tests keep real concurrency and real
/// sockets yet take little time. It also records every timer's due time, so a test can see the exact wait asked for.
/// </summary>
public sealed class FastClock(double speed = 20) : TimeProvider
{
    private readonly long _realStart = Stopwatch.GetTimestamp();
    private readonly DateTimeOffset _utcStart = DateTimeOffset.UtcNow;
    private readonly ConcurrentQueue<TimeSpan> _waits = new();

    public double Speed => speed;

    /// <summary>The finite, positive due times of the timers started so far (in this clock's time).</summary>
    public IReadOnlyList<TimeSpan> Waits => [.. _waits];

    public override long TimestampFrequency => Stopwatch.Frequency;

    public override DateTimeOffset GetUtcNow() => _utcStart + TimeSpan.FromTicks((long)(Stopwatch.GetElapsedTime(_realStart).Ticks * speed));

    public override long GetTimestamp() => (long)((Stopwatch.GetTimestamp() - _realStart) * speed);

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        Note(dueTime);
        return new FastTimer(System.CreateTimer(callback, state, Real(dueTime), Real(period)), this);
    }

    /// <summary>Real time for a span of this clock's time, in whole milliseconds (what system timers resolve), rounded up so no timer fires early.</summary>
    public TimeSpan Real(TimeSpan time) =>
        time <= TimeSpan.Zero || time == Timeout.InfiniteTimeSpan ? time : TimeSpan.FromMilliseconds(Math.Ceiling(time.TotalMilliseconds / speed));

    private void Note(TimeSpan dueTime)
    {
        if (dueTime > TimeSpan.Zero && dueTime != Timeout.InfiniteTimeSpan)
        {
            _waits.Enqueue(dueTime);
        }
    }

    private sealed class FastTimer(ITimer inner, FastClock clock) : ITimer
    {
        public bool Change(TimeSpan dueTime, TimeSpan period)
        {
            clock.Note(dueTime);
            return inner.Change(clock.Real(dueTime), clock.Real(period));
        }

        public void Dispose() => inner.Dispose();

        public ValueTask DisposeAsync() => inner.DisposeAsync();
    }
}
