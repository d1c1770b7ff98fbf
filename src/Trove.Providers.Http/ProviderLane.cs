using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using System.Threading.RateLimiting;
using Polly;
using Polly.RateLimiting;
using Polly.Retry;
using Polly.Timeout;
using Trove.Domain.Models;

namespace Trove.Providers.Http;

/// <summary>The settings a lane is built from: a provider whose limits change gets a new lane.</summary>
internal sealed record LaneSettings(string Name, string Url, int TimeoutSeconds, int MaxConcurrency, int? RequestsPerMinute, int MaxAttempts, HttpRemoteModelsOptions Options)
{
    public static LaneSettings From(ProviderDefinition provider, HttpRemoteModelsOptions options) =>
        new(provider.Name, provider.Url, provider.TimeoutSeconds, provider.MaxConcurrency, provider.RequestsPerMinute, provider.MaxAttempts, options);
}

/// <summary>
/// One provider's resilience, shared by every caller in the process: the Polly pipeline (retry → concurrency limit →
/// cool-down gate → requests-per-minute → per-attempt timeout) and the limiters and gate it is built on. The probe
/// pipeline is the same without the retry, so <c>providers test</c> counts against the same limits.
/// </summary>
internal sealed class ProviderLane
{
    public static readonly ResiliencePropertyKey<ProviderCall> CallKey = new("trove.provider-call");

    public ProviderLane(LaneSettings settings, TimeProvider time)
    {
        Settings = settings;
        Time = time;
        Gate = new CoolDownGate(time);
        Concurrency = new ConcurrencyLimiter(new ConcurrencyLimiterOptions
        {
            PermitLimit = Math.Max(1, settings.MaxConcurrency),
            QueueLimit = int.MaxValue,
            QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
        });
        Rate = settings.RequestsPerMinute is { } rpm ? new SpacedRateLimiter(rpm, time) : null;
        Pipeline = Build(retries: true);
        Probe = Build(retries: false);
    }

    public LaneSettings Settings { get; }

    public TimeProvider Time { get; }

    public CoolDownGate Gate { get; }

    public ConcurrencyLimiter Concurrency { get; }

    public SpacedRateLimiter? Rate { get; }

    public ResiliencePipeline<AttemptResult> Pipeline { get; }

    public ResiliencePipeline<AttemptResult> Probe { get; }

    private ResiliencePipeline<AttemptResult> Build(bool retries)
    {
        var options = Settings.Options;
        var builder = new ResiliencePipelineBuilder<AttemptResult> { TimeProvider = Time, Name = "trove-provider-" + Settings.Name };
        if (retries && Settings.MaxAttempts > 1)
        {
            builder.AddRetry(new RetryStrategyOptions<AttemptResult>
            {
                MaxRetryAttempts = Settings.MaxAttempts - 1,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = options.RetryBaseDelay,
                MaxDelay = options.RetryMaxDelay,
                ShouldHandle = static args => ValueTask.FromResult(args.Outcome switch
                {
                    { Exception: TimeoutRejectedException } => true,
                    { Result.Retryable: true } => true,
                    _ => false,
                }),
                DelayGenerator = static args => ValueTask.FromResult(args.Outcome.Result?.Wait),
                OnRetry = args =>
                {
                    var result = args.Outcome.Result;
                    if (result?.Failure is FailureKind.RateLimited or FailureKind.Loading)
                    {
                        // Without a Retry-After the backoff Polly chose is the pause for everyone.
                        Gate.PauseUntil(Time.GetUtcNow() + args.RetryDelay);
                    }

                    if (args.Context.Properties.TryGetValue(CallKey, out var call))
                    {
                        call.OnRetry(result?.ToString() ?? args.Outcome.Exception?.GetType().Name ?? "?", args.RetryDelay);
                    }

                    return ValueTask.CompletedTask;
                },
            });
        }

        builder.AddRateLimiter(new RateLimiterStrategyOptions
        {
            Name = "Concurrency",
            RateLimiter = args => Concurrency.AcquireAsync(1, args.Context.CancellationToken),
        });
        builder.AddStrategy(_ => new CoolDownStrategy(Gate), new CoolDownStrategyOptions());
        if (Rate is { } rate)
        {
            builder.AddRateLimiter(new RateLimiterStrategyOptions
            {
                Name = "RequestsPerMinute",
                RateLimiter = args => rate.AcquireAsync(1, args.Context.CancellationToken),
            });
        }

        builder.AddTimeout(TimeSpan.FromSeconds(Settings.TimeoutSeconds));
        return builder.Build();
    }
}

/// <summary>
/// The lanes of every provider, per clock: process-wide, so every <see cref="HttpRemoteModels"/> in the process (the
/// server's jobs, a worker, the CLI) shares one concurrency limit, one rate limit and one cool-down per provider.
/// </summary>
internal sealed class ProviderLanes
{
    private static readonly ConditionalWeakTable<TimeProvider, ProviderLanes> PerClock = [];
    private readonly ConcurrentDictionary<string, ProviderLane> _lanes = new(StringComparer.Ordinal);
    private readonly TimeProvider _time;

    private ProviderLanes(TimeProvider time) => _time = time;

    public static ProviderLanes For(TimeProvider time) => PerClock.GetValue(time, static t => new ProviderLanes(t));

    public ProviderLane Get(ProviderDefinition provider, HttpRemoteModelsOptions options)
    {
        var settings = LaneSettings.From(provider, options);
        while (true)
        {
            if (_lanes.TryGetValue(provider.Name, out var lane))
            {
                if (lane.Settings == settings)
                {
                    return lane;
                }

                // Changed limits: a new lane from now on; calls in flight finish on the old one.
                var replacement = new ProviderLane(settings, _time);
                if (_lanes.TryUpdate(provider.Name, replacement, lane))
                {
                    return replacement;
                }
            }
            else
            {
                var fresh = new ProviderLane(settings, _time);
                if (_lanes.TryAdd(provider.Name, fresh))
                {
                    return fresh;
                }
            }
        }
    }
}
