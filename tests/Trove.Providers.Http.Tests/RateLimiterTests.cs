using System.Threading.RateLimiting;

using Trove.Testing;

namespace Trove.Providers.Http.Tests;

/// <summary>The requests-per-minute limiter on a clock that moves only when the test says: exact times, no flakiness.</summary>
public sealed class RateLimiterTests
{
    [Fact]
    public void OverAnySixtySeconds_AtMostRequestsPerMinuteAreGranted()
    {
        var clock = new ManualClock();
        using var limiter = new SpacedRateLimiter(120, clock);
        var granted = new List<TimeSpan>();

        // Callers that always want more: try at every 10 ms for 3 minutes.
        for (var step = 0; step < 18_000; step++)
        {
            while (true)
            {
                using var lease = limiter.AttemptAcquire();
                if (!lease.IsAcquired)
                {
                    break;
                }

                granted.Add(clock.Elapsed);
            }

            clock.Advance(TimeSpan.FromMilliseconds(10));
        }

        Assert.InRange(granted.Count, 359, 360);
        foreach (var start in granted)
        {
            Assert.True(granted.Count(t => t >= start && t < start + TimeSpan.FromMinutes(1)) <= 120);
        }

        Assert.All(granted.Zip(granted.Skip(1)), pair => Assert.True(pair.Second - pair.First >= TimeSpan.FromSeconds(0.5)));
    }

    [Fact]
    public async Task CallersWokenLate_DoNotGoOutTogether()
    {
        // Three callers queue for slots 0 s, 1 s and 2 s; then the process "stalls" for 10 s (the clock jumps): the ones
        // still waiting are released one interval after each other, counted from when the grants really happen.
        var clock = new ManualClock();
        using var limiter = new SpacedRateLimiter(60, clock);
        var first = limiter.AcquireAsync(1).AsTask();
        var second = limiter.AcquireAsync(1).AsTask();
        var third = limiter.AcquireAsync(1).AsTask();
        Assert.True(first.IsCompletedSuccessfully);
        clock.Advance(TimeSpan.FromSeconds(10));

        // Both timers are due; one caller goes now, the other one interval after it (whichever was first to the lock).
        await Task.WhenAny(second, third);
        Assert.True(second.IsCompleted ^ third.IsCompleted, "both late callers went out at once");
        var later = second.IsCompleted ? third : second;
        clock.Advance(TimeSpan.FromMilliseconds(999));
        Assert.False(later.IsCompleted);
        clock.Advance(TimeSpan.FromMilliseconds(1));
        (await later).Dispose();
        (await second).Dispose();
        (await third).Dispose();
        (await first).Dispose();
    }

    [Fact]
    public void ARefusal_SaysWhenTheNextPermitComes()
    {
        var clock = new ManualClock();
        using var limiter = new SpacedRateLimiter(60, clock);

        using var first = limiter.AttemptAcquire();
        clock.Advance(TimeSpan.FromMilliseconds(400));
        using var second = limiter.AttemptAcquire();

        Assert.True(first.IsAcquired);
        Assert.False(second.IsAcquired);
        Assert.True(second.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter));
        Assert.Equal(TimeSpan.FromMilliseconds(600), retryAfter);
        Assert.Equal(TimeSpan.FromSeconds(1), limiter.Interval);
    }

    [Fact]
    public async Task Waiters_AreServedInArrivalOrderOneIntervalApart_NeverRefused()
    {
        var clock = new ManualClock();
        using var limiter = new SpacedRateLimiter(120, clock);

        var waiters = Enumerable.Range(0, 4).Select(_ => limiter.AcquireAsync(1).AsTask()).ToList();

        Assert.True((await waiters[0].WaitAsync(TimeSpan.FromSeconds(10))).IsAcquired);
        Assert.All(waiters.Skip(1), w => Assert.False(w.IsCompleted));
        for (var i = 1; i < waiters.Count; i++)
        {
            clock.Advance(TimeSpan.FromMilliseconds(499));
            Assert.All(waiters.Skip(i), w => Assert.False(w.IsCompleted));
            clock.Advance(TimeSpan.FromMilliseconds(1));
            Assert.True((await waiters[i].WaitAsync(TimeSpan.FromSeconds(10))).IsAcquired);
            Assert.All(waiters.Skip(i + 1), w => Assert.False(w.IsCompleted));
        }

        Assert.Equal(4, limiter.GetStatistics()!.TotalSuccessfulLeases);
    }

    [Fact]
    public async Task ACancelledWaiter_GivesItsTurnBack()
    {
        var clock = new ManualClock();
        using var limiter = new SpacedRateLimiter(60, clock);
        using var cts = new CancellationTokenSource();

        using var first = await limiter.AcquireAsync(1);
        var cancelled = limiter.AcquireAsync(1, cts.Token).AsTask();
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled);
        var next = limiter.AcquireAsync(1).AsTask();
        clock.Advance(TimeSpan.FromSeconds(1));

        Assert.True((await next.WaitAsync(TimeSpan.FromSeconds(10))).IsAcquired);
    }
}
