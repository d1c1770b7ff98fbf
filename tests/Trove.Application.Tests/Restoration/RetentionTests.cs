using Trove.Application.Jobs;
using Trove.Application.Restoration;
using Trove.Domain;
using static Trove.Application.Tests.TestLibrary;
using ManualClock = Trove.Testing.ManualClock;

namespace Trove.Application.Tests.Restoration;

/// <summary>
/// Results nobody kept expire through the scheduled retention sweep (to the trash, never unlinked); keep and discard act
/// on results only; deleting an original asks what becomes of its derived media.
/// </summary>
public sealed class RetentionTests
{
    private static readonly TimeSpan Day = TimeSpan.FromHours(24);

    /// <summary>Marks <paramref name="derived"/> as a result made from <paramref name="original"/>, as a restore does (both directions).</summary>
    private static async Task DeriveAsync(TestLibrary t, string original, string derived, bool kept, TimeSpan? expiresIn)
    {
        await using var session = await t.Library.BeginWriteAsync(Ct);
        var result = session.Read(derived);
        result.Sidecar.DerivedFrom = new DerivationInfo
        {
            Id = original,
            Model = "nearest2",
            Version = "1",
            At = session.Now,
            By = "alice",
            Kept = kept,
            ExpiresAt = expiresIn is { } e ? session.Now + e : null,
        };
        result.Sidecar.Relations.Add(new RelationEntry { Type = RelationTypes.DerivedFrom, Target = original, CreatedAt = session.Now });
        await session.SaveAsync(result.Sidecar, result.InTrash, Ct);
        var source = session.Read(original);
        source.Sidecar.Relations.Add(new RelationEntry { Type = RelationTypes.Derivative, Target = derived, CreatedAt = session.Now });
        await session.SaveAsync(source.Sidecar, source.InTrash, Ct);
    }

    private static bool InTrash(TestLibrary t, string id) => t.Library.Files.ReadSidecar(id).InTrash;

    [Fact]
    public async Task The_sweep_trashes_only_unkept_results_whose_retention_ran_out_and_tells_the_next_expiry()
    {
        var clock = new ManualClock();
        await using var t = await CreateAsync(clock: clock);
        var ids = await t.ImportPngsAsync([1, 2, 3, 4]);
        await DeriveAsync(t, ids[0], ids[1], kept: false, Day);
        await DeriveAsync(t, ids[0], ids[2], kept: false, 2 * Day);
        await DeriveAsync(t, ids[0], ids[3], kept: true, null);
        var service = new ProcessingService(t.Library);

        var early = await service.ExpireAsync(Ct);
        Assert.Empty(early.Trashed);
        Assert.Equal(2, early.Unkept);
        Assert.Equal(clock.GetUtcNow() + Day, early.NextExpiry);

        clock.Advance(Day + TimeSpan.FromSeconds(1));
        var report = await service.ExpireAsync(Ct);
        Assert.Equal([ids[1]], report.Trashed);
        Assert.True(InTrash(t, ids[1]));
        Assert.Equal(ProcessingService.RetentionActor, t.Library.Files.ReadSidecar(ids[1]).Sidecar.Deleted!.By);
        Assert.False(InTrash(t, ids[2]));
        Assert.False(InTrash(t, ids[3]));
        Assert.Equal(1, report.Unkept);

        // Kept meanwhile: it stays, whatever the clock says.
        await service.KeepAsync(ids[2], Ct);
        clock.Advance(3 * Day);
        Assert.Empty((await service.ExpireAsync(Ct)).Trashed);
        Assert.False(InTrash(t, ids[2]));
        Assert.Null(t.Library.Files.ReadSidecar(ids[2]).Sidecar.DerivedFrom!.ExpiresAt);

        // The original sees its derivatives' states; after a purge the trashed one is gone.
        var lineage = LineageView.Of(t.Library, t.Library.Files.ReadSidecar(ids[0]).Sidecar);
        Assert.Equal([LineageStates.Trash, LineageStates.Library, LineageStates.Library], ids[1..].Select(id => lineage.Derivatives.Single(d => d.Id == id).State));
        Assert.Equal(new[] { ids[2], ids[3] }.Order(StringComparer.Ordinal), lineage.LiveDerivatives.Select(d => d.Id).Order(StringComparer.Ordinal));
        await t.Media.PurgeAsync([ids[1]], Ct);
        lineage = LineageView.Of(t.Library, t.Library.Files.ReadSidecar(ids[0]).Sidecar);
        Assert.Equal(LineageStates.Gone, lineage.Derivatives.Single(d => d.Id == ids[1]).State);
        Assert.Equal(ids[0], LineageView.Of(t.Library, t.Library.Files.ReadSidecar(ids[2]).Sidecar).Original!.Id);
    }

    [Fact]
    public async Task A_sweep_is_scheduled_once_per_expiry_and_each_sweep_schedules_the_next()
    {
        var clock = new ManualClock();
        await using var t = await CreateAsync(clock: clock);
        var ids = await t.ImportPngsAsync([1, 2, 3]);
        await DeriveAsync(t, ids[0], ids[1], kept: false, Day);
        await DeriveAsync(t, ids[0], ids[2], kept: false, 2 * Day);
        var start = clock.GetUtcNow();

        var first = await RetentionJobs.ScheduleNextAsync(t.Library, Ct);
        Assert.NotNull(first);
        Assert.Equal(start + Day, first.AvailableAt);
        Assert.Equal(first.Id, (await RetentionJobs.ScheduleAsync(t.Library, start + 2 * Day, Ct)).Id);
        Assert.Equal(first.Id, (await RetentionJobs.ScheduleNextAsync(t.Library, Ct))!.Id);
        var queue = JobQueue.Of(t.Library);
        Assert.Single(await queue.Store.ListAsync(RetentionJobs.Kind, null, 10, Ct));

        clock.Advance(Day);
        var job = await queue.Store.ClaimAsync("w", new Dictionary<string, int> { [RetentionJobs.Kind] = 1 }, TimeSpan.FromMinutes(1), clock.GetUtcNow(), Ct);
        Assert.Equal(first.Id, job?.Id);
        await RetentionJobs.Handler(t.Library).RunAsync(new JobContext(job!, new Progress<ProgressInfo>(), Ct));
        Assert.True(InTrash(t, ids[1]));
        Assert.False(InTrash(t, ids[2]));

        var next = Assert.Single(await queue.Store.ListAsync(RetentionJobs.Kind, null, 10, Ct), j => j.Status == JobStatus.Queued);
        Assert.Equal(start + 2 * Day, next.AvailableAt);
        Assert.Equal(ProcessingService.RetentionActor, next.CreatedBy);
    }

    [Fact]
    public async Task Keep_and_discard_act_on_results_only()
    {
        await using var t = await CreateAsync();
        var ids = await t.ImportPngsAsync([1, 2]);
        await DeriveAsync(t, ids[0], ids[1], kept: false, Day);
        var service = new ProcessingService(t.Library);

        Assert.Equal("not-derived", (await Assert.ThrowsAsync<TroveUsageException>(() => service.KeepAsync(ids[0], Ct))).Code);
        Assert.Equal("not-derived", (await Assert.ThrowsAsync<TroveUsageException>(() => service.DiscardAsync(ids[0], Ct))).Code);
        Assert.True(await service.DiscardAsync(ids[1][..8], Ct));
        Assert.True(InTrash(t, ids[1]));
        Assert.False(await service.DiscardAsync(ids[1], Ct));
        Assert.Equal("in-trash", (await Assert.ThrowsAsync<TroveUsageException>(() => service.KeepAsync(ids[1], Ct))).Code);
        Assert.False(InTrash(t, ids[0]));
    }

    [Fact]
    public async Task Deleting_an_original_asks_about_its_derived_media_and_a_refusal_changes_nothing()
    {
        await using var t = await CreateAsync();
        var ids = await t.ImportPngsAsync([1, 2, 3, 4]);
        await DeriveAsync(t, ids[0], ids[1], kept: true, null);
        await DeriveAsync(t, ids[1], ids[2], kept: true, null); // a result of a result

        var ex = await Assert.ThrowsAsync<TroveUsageException>(() => t.Media.DeleteAsync([ids[3], ids[0]], Ct));
        Assert.Equal("has-derived", ex.Code);
        Assert.Contains(ids[1][..12], ex.Message, StringComparison.Ordinal);
        Assert.False(InTrash(t, ids[3])); // nothing of the batch was deleted
        Assert.False(InTrash(t, ids[0]));

        Assert.Equal([ids[0]], await t.Media.DeleteAsync([ids[0]], DerivedMedia.KeepDerived, Ct));
        Assert.False(InTrash(t, ids[1]));
        await t.Media.RestoreAsync([ids[0]], Ct);

        var moved = await t.Media.DeleteAsync([ids[0]], DerivedMedia.WithDerived, Ct);
        Assert.Equal([ids[0], ids[1], ids[2]], moved);
        Assert.All(moved, id => Assert.True(InTrash(t, id)));

        // An original whose derived media are all in the trash deletes without asking.
        await t.Media.RestoreAsync([ids[0]], Ct);
        Assert.Equal([ids[0]], await t.Media.DeleteAsync([ids[0]], Ct));
    }
}
