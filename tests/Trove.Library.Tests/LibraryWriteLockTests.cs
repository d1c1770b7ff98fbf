using Trove.Domain;

namespace Trove.Library.Tests;

public sealed class LibraryWriteLockTests : IDisposable
{
    private static readonly TimeSpan Long = TimeSpan.FromSeconds(30);
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    /// <summary>Real time, but reports when the lock first has to wait (it schedules a retry delay).</summary>
    private sealed class WaitSignallingTime : TimeProvider
    {
        public TaskCompletionSource FirstWait { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public int Waits;

        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
        {
            Interlocked.Increment(ref Waits);
            FirstWait.TrySetResult();
            return System.CreateTimer(callback, state, dueTime, period);
        }
    }

    /// <summary>A clock that jumps a minute every time it is read, so any timeout expires on the first retry check.</summary>
    private sealed class RacingTime : TimeProvider
    {
        private long _now;

        public override long TimestampFrequency => TimeSpan.TicksPerSecond;

        public override long GetTimestamp() => Interlocked.Add(ref _now, TimeSpan.TicksPerMinute);
    }

    [Fact]
    public async Task Acquire_creates_the_lock_file_and_succeeds_when_free()
    {
        var layout = new LibraryLayout(_dir.Path);
        var time = new WaitSignallingTime();
        using (var held = await LibraryWriteLock.AcquireAsync(layout, Long, time, CancellationToken.None))
        {
            Assert.True(File.Exists(layout.WriteLockPath));
        }

        Assert.Equal(0, time.Waits);
    }

    [Fact]
    public async Task Second_acquire_waits_until_the_first_is_disposed()
    {
        var layout = new LibraryLayout(_dir.Path);
        var first = await LibraryWriteLock.AcquireAsync(layout, Long, TimeProvider.System, CancellationToken.None);

        var time = new WaitSignallingTime();
        var second = LibraryWriteLock.AcquireAsync(layout, Long, time, CancellationToken.None);

        // The second caller found the lock taken and scheduled a retry: it is waiting, not done.
        await time.FirstWait.Task.WaitAsync(Long);
        Assert.False(second.IsCompleted);

        first.Dispose();
        using var acquired = await second.WaitAsync(Long);
        Assert.True(time.Waits >= 1);

        // And while the second holds it, a third caller is turned away.
        var ex = await Assert.ThrowsAsync<TroveException>(() => LibraryWriteLock.AcquireAsync(layout, TimeSpan.Zero, new RacingTime(), CancellationToken.None));
        Assert.Equal("library-busy", ex.Code);
    }

    [Fact]
    public async Task Lock_can_be_taken_again_after_release()
    {
        var layout = new LibraryLayout(_dir.Path);
        for (var i = 0; i < 3; i++)
        {
            var time = new WaitSignallingTime();
            using var held = await LibraryWriteLock.AcquireAsync(layout, Long, time, CancellationToken.None);
            Assert.Equal(0, time.Waits);
        }
    }

    [Fact]
    public async Task Acquire_times_out_with_library_busy()
    {
        var layout = new LibraryLayout(_dir.Path);
        using var first = await LibraryWriteLock.AcquireAsync(layout, Long, TimeProvider.System, CancellationToken.None);

        var ex = await Assert.ThrowsAsync<TroveException>(() =>
            LibraryWriteLock.AcquireAsync(layout, TimeSpan.FromMilliseconds(1), TimeProvider.System, CancellationToken.None));
        Assert.Equal("library-busy", ex.Code);
        Assert.Contains(layout.Root, ex.Message);
        Assert.NotNull(ex.Hint);
        Assert.False(ex.IsUsageError);
    }

    [Fact]
    public async Task Acquire_times_out_according_to_the_given_clock()
    {
        var layout = new LibraryLayout(_dir.Path);
        using var first = await LibraryWriteLock.AcquireAsync(layout, Long, TimeProvider.System, CancellationToken.None);

        // A generous timeout, but the injected clock runs a minute per reading.
        var ex = await Assert.ThrowsAsync<TroveException>(() =>
            LibraryWriteLock.AcquireAsync(layout, TimeSpan.FromSeconds(30), new RacingTime(), CancellationToken.None));
        Assert.Equal("library-busy", ex.Code);
    }

    [Fact]
    public async Task Acquire_honours_cancellation_while_waiting()
    {
        var layout = new LibraryLayout(_dir.Path);
        using var first = await LibraryWriteLock.AcquireAsync(layout, Long, TimeProvider.System, CancellationToken.None);

        using var cts = new CancellationTokenSource();
        var time = new WaitSignallingTime();
        var waiting = LibraryWriteLock.AcquireAsync(layout, Long, time, cts.Token);
        await time.FirstWait.Task.WaitAsync(Long);

        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting.WaitAsync(Long));
    }

    [Fact]
    public async Task Acquire_with_an_already_cancelled_token_throws()
    {
        var layout = new LibraryLayout(_dir.Path);
        using var cts = new CancellationTokenSource();
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => LibraryWriteLock.AcquireAsync(layout, Long, TimeProvider.System, cts.Token));
    }

    [Fact]
    public async Task Different_libraries_do_not_contend()
    {
        var a = new LibraryLayout(_dir.Combine("a"));
        var b = new LibraryLayout(_dir.Combine("b"));
        using var lockA = await LibraryWriteLock.AcquireAsync(a, Long, TimeProvider.System, CancellationToken.None);
        var time = new WaitSignallingTime();
        using var lockB = await LibraryWriteLock.AcquireAsync(b, TimeSpan.Zero, time, CancellationToken.None);
        Assert.Equal(0, time.Waits);
    }
}
