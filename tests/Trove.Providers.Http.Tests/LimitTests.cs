using Trove.Application.Providers;
using Trove.Testing;
using static Trove.Providers.Http.Tests.TestSupport;

namespace Trove.Providers.Http.Tests;

/// <summary>The per-provider limits every caller in the process shares, and cancellation through all of it.</summary>
public sealed class LimitTests
{
    [Fact]
    public async Task ManyParallelCallers_NeverHaveMoreThanMaxConcurrencyInFlight()
    {
        await using var h = await Harness.StartAsync();
        h.Fake.Latency = TimeSpan.FromSeconds(1); // 50 ms of real time at 20×
        var provider = OpenAi(h.Fake, p => p.MaxConcurrency = 3);

        var replies = await Task.WhenAll(Enumerable.Range(0, 12).Select(_ => h.Models.CaptionAsync(provider, Caption(), Deadline())));

        Assert.Equal(12, replies.Length);
        Assert.All(replies, r => Assert.Equal(1, r.Attempts));
        Assert.Equal(12, h.Fake.Requests.Count);
        Assert.Equal(3, h.Fake.MaxInFlight);
    }

    [Fact]
    public async Task TheConcurrencyLimit_IsSharedByEveryClientInTheProcess()
    {
        await using var h = await Harness.StartAsync();
        using var second = HttpRemoteModels.Create(null, h.Clock);
        h.Fake.Latency = TimeSpan.FromSeconds(1);
        var provider = OpenAi(h.Fake, p => p.MaxConcurrency = 2);
        // The same provider as read again from providers.json: an equal definition, another object.
        var again = OpenAi(h.Fake, p =>
        {
            p.Name = provider.Name;
            p.MaxConcurrency = 2;
        });

        await Task.WhenAll(Enumerable.Range(0, 8).Select(i => i % 2 == 0
            ? h.Models.CaptionAsync(provider, Caption(), Deadline())
            : second.CaptionAsync(again, Caption(), Deadline())));

        Assert.Equal(8, h.Fake.Requests.Count);
        Assert.Equal(2, h.Fake.MaxInFlight);
    }

    [Fact]
    public async Task RequestsPerMinute_SpacesRequestsEvenly_AndNoneFails()
    {
        // A slower clock here (4×): the limiter's spacing is exact, but the network adds real jitter on the way.
        await using var h = await Harness.StartAsync(speed: 4);
        var provider = OpenAi(h.Fake, p =>
        {
            p.RequestsPerMinute = 120; // one every 0.5 s
            p.MaxConcurrency = 10;
        });
        // Warm the connections up with another provider on the same server, so the first measured request is not slow.
        var warmUp = OpenAi(h.Fake, p => p.MaxConcurrency = 10);
        await Task.WhenAll(Enumerable.Range(0, 10).Select(_ => h.Models.CaptionAsync(warmUp, Caption(), Deadline())));
        h.Fake.Reset();

        var replies = await Task.WhenAll(Enumerable.Range(0, 10).Select(_ => h.Models.CaptionAsync(provider, Caption(), Deadline())));

        Assert.All(replies, r => Assert.Equal(1, r.Attempts));
        var times = h.Fake.Requests.Select(r => r.At).Order().ToList();
        Assert.Equal(10, times.Count);
        var offsets = string.Join(", ", times.Select(t => (t - times[0]).TotalSeconds.ToString("0.000", System.Globalization.CultureInfo.InvariantCulture)));
        // Counts per window from the first request: within k × 0.5 s (less a little for jitter) at most k arrived —
        // never the burst of 10 that 10 callers with 10 connections would send at once.
        for (var k = 1; k < times.Count; k++)
        {
            var window = TimeSpan.FromSeconds(0.5 * k - 0.3);
            var inWindow = times.Count(t => t < times[0] + window);
            Assert.True(inWindow <= k, $"{inWindow} requests within {window.TotalSeconds:0.0} s of the first: {offsets}");
        }

        Assert.True(times[^1] - times[0] >= TimeSpan.FromSeconds(4.2), $"10 requests in {(times[^1] - times[0]).TotalSeconds:0.00} s: {offsets}");
    }

    [Fact]
    public async Task Cancelled_WhileTheServiceIsWorking_IsCancelledNotTimeout()
    {
        await using var h = await Harness.StartAsync();
        h.Fake.Default = Behaviour.Hang();
        using var cts = new CancellationTokenSource();
        var call = h.Models.CaptionAsync(OpenAi(h.Fake, p => p.TimeoutSeconds = 5), Caption(), cts.Token);
        await h.Fake.WaitForRequestsAsync(1, Deadline());

        await cts.CancelAsync();

        var e = await Assert.ThrowsAnyAsync<OperationCanceledException>(() => call);
        Assert.Equal(cts.Token, e.CancellationToken);
        Assert.Single(h.Fake.Requests);
    }

    [Fact]
    public async Task Cancelled_WhileWaitingToRetry_IsCancelled()
    {
        await using var h = await Harness.StartAsync();
        h.Fake.Default = Behaviour.RateLimited(retryAfter: 100);
        using var cts = new CancellationTokenSource();
        var call = h.Models.CaptionAsync(OpenAi(h.Fake), Caption(), cts.Token);
        await h.Fake.WaitForRequestsAsync(1, Deadline());

        await cts.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => call);
        Assert.Single(h.Fake.Requests);
    }

    [Fact]
    public async Task Cancelled_WhileQueuedBehindTheConcurrencyLimit_IsCancelled()
    {
        await using var h = await Harness.StartAsync();
        h.Fake.Enqueue(Behaviour.Hang());
        var provider = OpenAi(h.Fake, p => p.MaxConcurrency = 1);
        using var first = new CancellationTokenSource();
        using var second = new CancellationTokenSource();
        var busy = h.Models.CaptionAsync(provider, Caption(), first.Token);
        await h.Fake.WaitForRequestsAsync(1, Deadline());
        var queued = h.Models.CaptionAsync(provider, Caption(), second.Token);

        await second.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => queued);
        await first.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => busy);

        Assert.Single(h.Fake.Requests);
    }

    [Fact]
    public async Task AlreadyCancelled_SendsNothing()
    {
        await using var h = await Harness.StartAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => h.Models.CaptionAsync(OpenAi(h.Fake), Caption(), new CancellationToken(canceled: true)));

        Assert.Empty(h.Fake.Requests);
    }
}
