namespace Trove.Application.Enrichment;

/// <summary>
/// One source's request rate, shared by every worker that asks it: a token bucket of capacity one that refills at
/// <c>perMinute</c> / 60 tokens a second, so requests are spaced 60 / perMinute seconds apart and no window of that length
/// ever holds two — never above the limit, however many workers wait. A 429's Retry-After (or a pause after repeated
/// failures) moves the next slot to later for everyone (<see cref="PauseUntil"/>). Time comes from the
/// <see cref="TimeProvider"/>, so tests move it by hand.
/// </summary>
public sealed class SourceRateLimiter
{
    private readonly Lock _sync = new();
    private readonly TimeProvider _time;
    private DateTimeOffset _next = DateTimeOffset.MinValue;
    private long _granted;

    public SourceRateLimiter(int perMinute, TimeProvider time)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(perMinute, 1);
        ArgumentNullException.ThrowIfNull(time);
        PerMinute = perMinute;
        Interval = TimeSpan.FromTicks(TimeSpan.TicksPerMinute / perMinute);
        _time = time;
    }

    public int PerMinute { get; }

    /// <summary>The spacing between two requests.</summary>
    public TimeSpan Interval { get; }

    /// <summary>Requests let through so far.</summary>
    public long Granted => Interlocked.Read(ref _granted);

    /// <summary>Waits for this caller's slot. A caller cancelled while waiting gives its slot up to nobody (the spacing stays).</summary>
    public async Task WaitAsync(CancellationToken ct)
    {
        DateTimeOffset slot;
        lock (_sync)
        {
            var now = _time.GetUtcNow();
            slot = _next > now ? _next : now;
            _next = slot + Interval;
        }

        var delay = slot - _time.GetUtcNow();
        if (delay > TimeSpan.Zero)
        {
            await Task.Delay(delay, _time, ct).ConfigureAwait(false);
        }

        Interlocked.Increment(ref _granted);
    }

    /// <summary>No request before <paramref name="until"/> (a 429's Retry-After, a paused source).</summary>
    public void PauseUntil(DateTimeOffset until)
    {
        lock (_sync)
        {
            if (until > _next)
            {
                _next = until;
            }
        }
    }
}
