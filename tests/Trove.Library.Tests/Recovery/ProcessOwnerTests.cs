using System.Diagnostics;
using Trove.Library.Recovery;

namespace Trove.Library.Tests.Recovery;

public sealed class ProcessOwnerTests : IDisposable
{
    private static readonly DateTimeOffset Now = new(2026, 12, 7, 12, 0, 0, TimeSpan.Zero);

    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    /// <summary>This process's pid with another start time: what a recycled pid looks like.</summary>
    private static ProcessOwner Recycled => ProcessOwner.Current with { StartTicks = ProcessOwner.Current.StartTicks + 1 };

    [Fact]
    public void This_process_is_alive_and_its_token_round_trips()
    {
        var current = ProcessOwner.Current;
        Assert.Equal(Environment.ProcessId, current.Pid);
        Assert.NotNull(current.StartTicks);
        Assert.Matches("^[0-9a-f]{8}$", current.Host);
        Assert.Equal(current, ProcessOwner.ParseToken(current.Token));
        Assert.Equal(OwnerStatus.Alive, current.Status());
    }

    [Fact]
    public void A_recycled_pid_with_another_start_time_is_not_the_owner()
    {
        Assert.Equal(OwnerStatus.Dead, Recycled.Status());
    }

    [Fact]
    public async Task A_process_that_exited_is_dead_and_a_running_one_alive()
    {
        using var running = Process.Start(new ProcessStartInfo("sleep", "60") { UseShellExecute = false })!;
        try
        {
            var runningOwner = ProcessOwner.ParseToken(running.Id.ToString(System.Globalization.CultureInfo.InvariantCulture))!.Value;
            Assert.Equal(OwnerStatus.Alive, runningOwner.Status());
        }
        finally
        {
            running.Kill();
            await running.WaitForExitAsync();
        }

        // Reaped: its pid is free (Linux hands pids out in order, so it is not reused within this test).
        Assert.Equal(OwnerStatus.Dead, new ProcessOwner(running.Id, null, null).Status());
    }

    [Fact]
    public void An_owner_on_another_machine_is_never_judged_by_this_process_table()
    {
        var foreign = ProcessOwner.Current with { Host = ProcessOwner.Current.Host == "00000000" ? "11111111" : "00000000" };
        Assert.Equal(OwnerStatus.Unknown, foreign.Status());
        Assert.Equal(OwnerStatus.Unknown, (Recycled with { Host = foreign.Host }).Status());
    }

    [Fact]
    public void Every_kind_of_temporary_name_carries_its_owner()
    {
        var layout = new LibraryLayout(_temp.Path);
        var names = new[]
        {
            TempNames.Beside(Path.Combine(layout.MediaDir, "ab", "cd", "abcd.json")),
            TempNames.StagingFile(layout, "import"),
            TempNames.StagingFile(layout.TempDir, "zip"),
            TempNames.StagingFolder(layout, "upload"),
        };
        foreach (var name in names.Select(Path.GetFileName))
        {
            Assert.Equal(ProcessOwner.Current, ProcessOwner.FromTempName(name!));
        }

        Assert.True(AtomicFile.IsTempFile(names[0]));
        Assert.True(AtomicFile.IsTempFile(names[1]));
        Assert.False(AtomicFile.IsTempFile(names[3]));
    }

    [Theory]
    [InlineData(".a.json.trove-tmp-123-abcdef12", 123)]
    [InlineData("import-77-0123456789abcdef0123456789abcdef.trove-tmp", 77)]
    [InlineData("zip-9-0123456789abcdef0123456789abcdef.trove-tmp", 9)]
    public void Names_from_before_owners_had_start_times_still_name_the_pid(string name, int pid)
    {
        Assert.Equal(new ProcessOwner(pid, null, null), ProcessOwner.FromTempName(name));
    }

    [Theory]
    [InlineData("upload-0123456789abcdef0123456789abcdef")]
    [InlineData("upload-old")]
    [InlineData("notes.txt")]
    [InlineData(".a.json.trove-tmp")]
    public void Names_without_an_owner_have_none(string name)
    {
        Assert.Null(ProcessOwner.FromTempName(name));
    }

    [Fact]
    public void Debris_is_what_dead_owners_left_or_ownerless_files_past_their_age()
    {
        var fresh = Now.AddMinutes(-1);
        var old = Now.AddDays(-3);
        var hour = TimeSpan.FromHours(1);
        string Name(ProcessOwner owner) => $"import-{owner.Token}-0123456789abcdef0123456789abcdef.trove-tmp";

        Assert.False(ProcessOwner.IsDebris(Name(ProcessOwner.Current), old, Now, hour)); // in use, however old
        Assert.True(ProcessOwner.IsDebris(Name(Recycled), fresh, Now, hour)); // owner gone, however new
        Assert.False(ProcessOwner.IsDebris("upload-0123456789abcdef0123456789abcdef", fresh, Now, hour));
        Assert.True(ProcessOwner.IsDebris("upload-0123456789abcdef0123456789abcdef", Now.AddHours(-2), Now, hour));
        var foreign = Name(ProcessOwner.Current with { Host = ProcessOwner.Current.Host == "00000000" ? "11111111" : "00000000" });
        Assert.False(ProcessOwner.IsDebris(foreign, Now.AddHours(-2), Now, hour));
        Assert.True(ProcessOwner.IsDebris(foreign, old, Now, hour));
    }

    [Fact]
    public void Writer_markers_name_dead_processes_only_and_go_when_closed()
    {
        var layout = new LibraryLayout(_temp.Path);
        var mine = WriterMarkers.Register(layout, Now);
        var deadPath = Path.Combine(layout.WritersDir, Recycled.Token + "-0badc0de");
        File.WriteAllText(deadPath, "left by a killed process");
        File.WriteAllText(Path.Combine(layout.WritersDir, "not-a-marker"), "ignored");

        var dead = Assert.Single(WriterMarkers.Dead(layout));
        Assert.Equal(deadPath, dead.MarkerPath);
        Assert.Equal(Recycled, dead.Owner);
        Assert.Equal(3, Directory.GetFiles(layout.WritersDir).Length);

        WriterMarkers.Forget([dead]);
        mine.Dispose();
        Assert.Equal(["not-a-marker"], Directory.GetFiles(layout.WritersDir).Select(Path.GetFileName));
        Assert.Empty(WriterMarkers.Dead(layout));
    }
}
