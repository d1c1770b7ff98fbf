using Trove.Application.Enrichment;
using Trove.Testing;

namespace Trove.Application.Tests.Enrichment;

/// <summary>The per-source token bucket: parallel callers are spaced by 60 / limit seconds, never faster, and a Retry-After holds everyone.</summary>
public sealed class SourceRateLimiterTests
{
    [Fact]
    public async Task Parallel_callers_are_let_through_one_interval_apart_and_never_faster()
    {
        var clock = new ManualClock();
        var limiter = new SourceRateLimiter(60, clock);
        Assert.Equal(TimeSpan.FromSeconds(1), limiter.Interval);
        var waits = Enumerable.Range(0, 3).Select(_ => limiter.WaitAsync(CancellationToken.None)).ToList();
        Assert.True(waits[0].IsCompletedSuccessfully);
        Assert.False(waits[1].IsCompleted);
        clock.Advance(TimeSpan.FromMilliseconds(999));
        Assert.False(waits[1].IsCompleted);
        clock.Advance(TimeSpan.FromMilliseconds(1));
        await waits[1];
        Assert.False(waits[2].IsCompleted);
        clock.Advance(TimeSpan.FromSeconds(1));
        await waits[2];
        Assert.Equal(3, limiter.Granted);

        // After a quiet spell the next caller goes at once, but only one: no burst is saved up.
        clock.Advance(TimeSpan.FromMinutes(5));
        var now = limiter.WaitAsync(CancellationToken.None);
        var later = limiter.WaitAsync(CancellationToken.None);
        Assert.True(now.IsCompletedSuccessfully);
        Assert.False(later.IsCompleted);
        clock.Advance(TimeSpan.FromSeconds(1));
        await later;
    }

    [Fact]
    public async Task A_retry_after_holds_every_caller_and_cancellation_frees_the_waiter()
    {
        var clock = new ManualClock();
        var limiter = new SourceRateLimiter(240, clock);
        await limiter.WaitAsync(CancellationToken.None);
        limiter.PauseUntil(clock.GetUtcNow() + TimeSpan.FromSeconds(30));
        var held = limiter.WaitAsync(CancellationToken.None);
        clock.Advance(TimeSpan.FromSeconds(29));
        Assert.False(held.IsCompleted);
        clock.Advance(TimeSpan.FromSeconds(1));
        await held;

        using var cts = new CancellationTokenSource();
        var waiting = limiter.WaitAsync(cts.Token);
        Assert.False(waiting.IsCompleted);
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting);
        Assert.Equal(2, limiter.Granted);
    }
}
