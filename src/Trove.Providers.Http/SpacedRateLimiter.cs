using System.Threading.RateLimiting;

namespace Trove.Providers.Http;

/// <summary>
/// A requests-per-minute limiter that spaces permits evenly: a token bucket holding one token that refills
/// <c>60 s / R</c> after the previous grant. Any 60 s therefore sees at most R requests (a bucket that refills on a
/// fixed tick can let R + 1 through), bursts are never allowed, and callers wait their turn in arrival order instead of
/// failing. The waits run on the <see cref="TimeProvider"/>. Plugged into the Polly pipeline as its rate limiter.
/// </summary>
internal sealed class SpacedRateLimiter : RateLimiter
{
    private readonly TimeProvider _time;
    private readonly long _interval;
    private readonly Lock _lock = new();
    private long _next;
    private bool _started;
    private long _queued;
    private long _granted;
    private long _lastGrant;
    private bool _grantedOnce;

    public SpacedRateLimiter(int requestsPerMinute, TimeProvider time)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(requestsPerMinute, 1);
        _time = time;
        Interval = TimeSpan.FromMinutes(1) / requestsPerMinute;
        _interval = (long)Math.Ceiling(Interval.TotalSeconds * time.TimestampFrequency);
    }

    /// <summary>The least time between two permits.</summary>
    public TimeSpan Interval { get; }

    public override TimeSpan? IdleDuration => null;

    public override RateLimiterStatistics? GetStatistics()
    {
        lock (_lock)
        {
            return new RateLimiterStatistics
            {
                CurrentAvailablePermits = !_started || _time.GetTimestamp() >= _next ? 1 : 0,
                CurrentQueuedCount = Interlocked.Read(ref _queued),
                TotalSuccessfulLeases = Interlocked.Read(ref _granted),
                TotalFailedLeases = 0,
            };
        }
    }

    protected override RateLimitLease AttemptAcquireCore(int permitCount)
    {
        CheckCount(permitCount);
        lock (_lock)
        {
            var now = _time.GetTimestamp();
            if (permitCount == 0)
            {
                return !_started || now >= _next ? SpacedLease.Granted : SpacedLease.Refused(_time.GetElapsedTime(now, _next));
            }

            if (_started && now < _next)
            {
                return SpacedLease.Refused(_time.GetElapsedTime(now, _next));
            }

            _started = true;
            _next = now + _interval;
            _grantedOnce = true;
            _lastGrant = now;
        }

        Interlocked.Increment(ref _granted);
        return SpacedLease.Granted;
    }

    protected override async ValueTask<RateLimitLease> AcquireAsyncCore(int permitCount, CancellationToken cancellationToken)
    {
        CheckCount(permitCount);
        if (permitCount == 0)
        {
            return SpacedLease.Granted;
        }

        long slot;
        lock (_lock)
        {
            var now = _time.GetTimestamp();
            slot = _started ? Math.Max(now, _next) : now;
            _started = true;
            _next = slot + _interval;
        }

        Interlocked.Increment(ref _queued);
        try
        {
            // A timer may fire a little early (millisecond rounding): wait again until the slot has really come. And a
            // caller woken late (the process stalled, a GC pause) must not go out together with the callers queued behind
            // it: each grant is also at least one interval after the previous grant as it really happened, and the
            // schedule moves back by what was lost.
            while (true)
            {
                for (var now = _time.GetTimestamp(); now < slot; now = _time.GetTimestamp())
                {
                    var wait = _time.GetElapsedTime(now, slot);
                    await Task.Delay(TimeSpan.FromMilliseconds(Math.Ceiling(wait.TotalMilliseconds)), _time, cancellationToken).ConfigureAwait(false);
                }

                lock (_lock)
                {
                    var now = _time.GetTimestamp();
                    if (!_grantedOnce || now >= _lastGrant + _interval)
                    {
                        _grantedOnce = true;
                        _lastGrant = now;
                        _next = Math.Max(_next, now + _interval);
                        break;
                    }

                    slot = _lastGrant + _interval;
                }
            }
        }
        catch (OperationCanceledException)
        {
            lock (_lock)
            {
                // Give the slot back when nobody queued behind it.
                if (_next == slot + _interval)
                {
                    _next = slot;
                }
            }

            throw;
        }
        finally
        {
            Interlocked.Decrement(ref _queued);
        }

        Interlocked.Increment(ref _granted);
        return SpacedLease.Granted;
    }

    private static void CheckCount(int permitCount)
    {
        if (permitCount is < 0 or > 1)
        {
            throw new ArgumentOutOfRangeException(nameof(permitCount), permitCount, "Permits are granted one at a time.");
        }
    }

    private sealed class SpacedLease(bool acquired, TimeSpan? retryAfter) : RateLimitLease
    {
        public static readonly SpacedLease Granted = new(true, null);

        public override bool IsAcquired { get; } = acquired;

        public override IEnumerable<string> MetadataNames => retryAfter is null ? [] : [MetadataName.RetryAfter.Name];

        public static SpacedLease Refused(TimeSpan retryAfter) => new(false, retryAfter);

        public override bool TryGetMetadata(string metadataName, out object? metadata)
        {
            if (retryAfter is { } wait && metadataName == MetadataName.RetryAfter.Name)
            {
                metadata = wait;
                return true;
            }

            metadata = null;
            return false;
        }
    }
}
