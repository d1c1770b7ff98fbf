using System.Text.RegularExpressions;
using Trove.Testing;
using Xunit.Abstractions;

namespace Trove.Cli.Tests;

/// <summary>
/// A real `trove restore --now` killed with SIGKILL mid-upscale leaves no half-written media: nothing was imported, the
/// library checks clean, and re-running the same command makes the one result.
/// </summary>
public sealed partial class KillDuringRestoreTests(ITestOutputHelper output) : IDisposable
{
    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    [GeneratedRegex(@"^restore: Upscaling (\d+)/(\d+)$")]
    private static partial Regex ProgressLine();

    [Fact]
    public async Task Killed_restore_imports_nothing_and_the_rerun_makes_the_result_with_check_clean()
    {
        var library = _temp.Combine("library");
        (await TroveProcess.InAsync(library, "init")).ShouldSucceed();
        var photo = _temp.Combine("photo.png");
        TestImages.WritePng(photo, TestImages.Photo(5, 1600, 1200));
        var original = (await TroveProcess.InAsync(library, "import", photo, "--json")).ShouldSucceed().Json.GetProperty("media").Strings()[0];
        // A conv model heavy enough that the run takes seconds, in small tiles so progress comes often.
        var model = OnnxModels.Write(_temp.Combine("conv.onnx"), OnnxModels.ConvUpscaler(channels: 64));
        (await TroveProcess.InAsync(library, "models", "add", "conv2", "--kind", "upscaler", "--version", "1", "--file", model, "--parameters", """{"scale":2,"tileSize":96,"tileOverlap":8}""")).ShouldSucceed();

        var (done, total, _, _) = await KillAtProgress.RunAsync(TroveProcess.StartInfo(["restore", original, "--model", "conv2", "--now", "--library", library]), ProgressLine());
        output.WriteLine($"killed at tile {done}/{total}");
        Assert.True(done < total, $"the restore finished ({done}/{total}) before it could be killed; use a larger image");

        // Nothing half-written: one media, no result, nothing check would need to repair.
        Assert.Equal(1, (await TroveProcess.InAsync(library, "search", "", "--json")).ShouldSucceed().Json.GetProperty("total").GetInt64());
        var check = await TroveProcess.InAsync(library, "check", "--json");
        output.WriteLine($"check after kill: {check.Stdout}");
        Assert.All(check.Json.GetProperty("problems").EnumerateArray(), p => Assert.Equal("stale-temp-file", p.GetProperty("type").GetString()));

        var rerun = (await TroveProcess.InAsync(library, "restore", original, "--model", "conv2", "--now", "--json")).ShouldSucceed().Json;
        Assert.False(rerun.GetProperty("existing").GetBoolean());
        Assert.Equal(3200, rerun.GetProperty("width").GetInt32());
        (await TroveProcess.InAsync(library, "check", "--json")).ShouldSucceed();
        Assert.Equal(0, (await TroveProcess.InAsync(library, "check", "--json")).Json.GetProperty("problems").GetArrayLength());
        Assert.Empty(Directory.EnumerateFileSystemEntries(Path.Combine(library, "tmp")));
        Assert.Equal(2, (await TroveProcess.InAsync(library, "search", "", "--json")).ShouldSucceed().Json.GetProperty("total").GetInt64());
    }
}
