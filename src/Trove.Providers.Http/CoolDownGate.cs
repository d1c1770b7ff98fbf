using Polly;

namespace Trove.Providers.Http;

/// <summary>
/// The shared cool-down of one provider: when the service answers 429 (or 503 "loading"), every caller of that
/// provider in this process waits until the time it asked for before sending anything more.
/// </summary>
internal sealed class CoolDownGate(TimeProvider time)
{
    private long _untilUtcTicks;

    /// <summary>Nothing is sent to the provider before this time (in the past when not paused).</summary>
    public DateTimeOffset Until => new(Interlocked.Read(ref _untilUtcTicks), TimeSpan.Zero);

    public bool IsPaused => Until > time.GetUtcNow();

    /// <summary>Pauses every caller until <paramref name="until"/> (a pause already longer is kept). True when this extended it.</summary>
    public bool PauseUntil(DateTimeOffset until)
    {
        var ticks = until.UtcTicks;
        while (true)
        {
            var current = Interlocked.Read(ref _untilUtcTicks);
            if (current >= ticks)
            {
                return false;
            }

            if (Interlocked.CompareExchange(ref _untilUtcTicks, ticks, current) == current)
            {
                return true;
            }
        }
    }

    public async ValueTask WaitAsync(CancellationToken ct)
    {
        while (true)
        {
            var wait = Until - time.GetUtcNow();
            if (wait <= TimeSpan.Zero)
            {
                return;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(Math.Ceiling(wait.TotalMilliseconds)), time, ct).ConfigureAwait(false);
        }
    }
}

/// <summary>The Polly strategy that makes each attempt pass the provider's <see cref="CoolDownGate"/> first.</summary>
internal sealed class CoolDownStrategy(CoolDownGate gate) : ResilienceStrategy
{
    protected override async ValueTask<Outcome<TResult>> ExecuteCore<TResult, TState>(
        Func<ResilienceContext, TState, ValueTask<Outcome<TResult>>> callback, ResilienceContext context, TState state)
    {
        try
        {
            await gate.WaitAsync(context.CancellationToken).ConfigureAwait(context.ContinueOnCapturedContext);
        }
        catch (OperationCanceledException e)
        {
            return Outcome.FromException<TResult>(e);
        }

        return await callback(context, state).ConfigureAwait(context.ContinueOnCapturedContext);
    }
}

internal sealed class CoolDownStrategyOptions : ResilienceStrategyOptions
{
    public CoolDownStrategyOptions() => Name = "CoolDown";
}
