using System.Net;
using System.Text.RegularExpressions;
using Microsoft.Playwright;
using Trove.Application.Jobs;
using Trove.Application.Restoration;
using Trove.Domain.Models;
using Trove.Testing;

namespace Trove.Server.Ui.Tests;

/// <summary>
/// Restoration and upscaling in a real browser (issue 15): the image page's panel queues a restore job that the
/// server's own worker runs through real ONNX Runtime; the page follows its progress and opens the before/after
/// comparison; keep and discard; lineage on both images' pages; the history page; deleting an original asks what
/// becomes of its derived media.
/// </summary>
[Collection(BrowserCollection.Name)]
public sealed partial class RestoreFlowTests(BrowserFixture browser) : RestoreUiTest(browser)
{
    [Fact]
    public async Task A_member_runs_an_upscaler_from_the_image_page_sees_its_progress_and_lands_on_the_comparison()
    {
        await AddUpscalerAsync();
        var id = await ImportPngAsync("alice", "harbour.png", TestImages.Photo(11, 100, 80));
        var tiles = TiledUpscaler.Plan(100, 80, UpscalerParameters.Parse(System.Text.Json.Nodes.JsonNode.Parse(UpscalerJson)!.AsObject(), "nearest2")).Tiles;
        Assert.True(tiles > 2, $"the plan has {tiles} tiles");

        await SignInAsync("alice");
        await Page.GotoAsync($"/media/{id}");
        var panel = Page.GetByTestId("restore-panel");
        var model = panel.GetByTestId("restore-model");
        await Assertions.Expect(model).ToHaveValueAsync("nearest2@1");
        await Assertions.Expect(model.Locator("option")).ToHaveTextAsync(["Nearest · upscaler · 1 · ×2"]);
        await Assertions.Expect(panel.GetByTestId("restore-tile-size")).ToHaveValueAsync("48");
        await Assertions.Expect(panel.GetByTestId("restore-tile-overlap")).ToHaveValueAsync("8");
        await Assertions.Expect(panel.GetByTestId("restore-prompt")).ToBeHiddenAsync();
        await Assertions.Expect(panel.GetByTestId("restore-keep")).Not.ToBeCheckedAsync();

        // The first tile runs, the second waits at the gate: the page shows the job part-way, from GET /api/jobs/{id}.
        Gate.Hold(allow: 1);
        await panel.GetByTestId("restore-run").ClickAsync();
        var status = panel.GetByTestId("restore-status");
        await Assertions.Expect(status.GetByTestId("restore-text")).ToHaveTextAsync($"Upscaling: 1 / {tiles} tiles");
        await Assertions.Expect(status.GetByTestId("restore-progress")).ToHaveJSPropertyAsync("max", (double)tiles);
        await Assertions.Expect(status.GetByTestId("restore-progress")).ToHaveJSPropertyAsync("value", 1.0);
        await Assertions.Expect(panel.GetByTestId("restore-run")).ToBeDisabledAsync();
        Assert.Matches(JobId(), (await status.GetAttributeAsync("data-job"))!);
        await Page.ScreenshotAsync(new() { Path = Path.Combine(BrowserFixture.ScreenshotDir, "restore-progress.png") }); // it polls: never network-idle

        Gate.Release();
        await Page.WaitForURLAsync(CompareUrl());
        var result = CompareUrl().Match(Page.Url).Groups[1].Value;
        Assert.NotEqual(id, result);
        await Assertions.Expect(Page.GetByTestId("compare-page")).ToHaveAttributeAsync("data-original", id);
        await Assertions.Expect(Page.GetByTestId("compare-lineage")).ToContainTextAsync("nearest2@1 (model defaults)");
        await Assertions.Expect(Page.GetByTestId("compare-lineage")).ToContainTextAsync("by alice");
        await Assertions.Expect(Page.GetByTestId("compare-lineage")).ToContainTextAsync("100 × 80 → 200 × 160 px");
        await Assertions.Expect(Page.GetByTestId("compare-state-text")).ToHaveTextAsync(ExpiresInADay());

        var stored = Stored(result);
        Assert.False(stored.InTrash);
        var from = stored.Sidecar.DerivedFrom!;
        Assert.Equal((id, "nearest2", "1", 0, false, "alice"), (from.Id, from.Model, from.Version, from.Parameters.Count, from.Kept, from.By));
        Assert.Equal((200, 160), (stored.Sidecar.Original.Width, stored.Sidecar.Original.Height));
        var run = Assert.Single(await new ProcessingService(Library).HistoryAsync("alice", 10, Ct));
        Assert.Equal((JobStatus.Succeeded, result, (long)tiles, (long?)tiles), (run.Status, run.Result, run.Done, run.Total));
        AssertNoScriptErrors();
    }

    [Fact]
    public async Task The_panel_says_how_to_register_a_model_refuses_bad_parameters_and_shows_a_failed_jobs_error()
    {
        var id = await ImportPngAsync("alice", "field.png", TestImages.Photo(12, 100, 80));
        await SignInAsync("alice");
        await Page.GotoAsync($"/media/{id}");
        await Assertions.Expect(Page.GetByTestId("restore-none")).ToContainTextAsync("trove models add ID --kind upscaler");
        await Assertions.Expect(Page.GetByTestId("restore-none")).ToContainTextAsync("docs/models.md, \"Upscalers and restorers\"");
        await Assertions.Expect(Page.GetByTestId("restore-form")).ToHaveCountAsync(0);

        // A restorer that refuses anything over 100 pixels: the job fails for good (a usage error is not retried).
        await AddModelAsync("tiny", ModelKinds.Restorer, OnnxModels.NearestUpscaler(1), """{"scale":1,"tileSize":64,"tileOverlap":8,"maxInputPixels":100}""", "Tiny");
        await Page.ReloadAsync();
        var panel = Page.GetByTestId("restore-panel");
        await Assertions.Expect(panel.GetByTestId("restore-model")).ToHaveValueAsync("tiny@1");

        // Refused when queued: the overlap must stay under half the tile; the panel says so and nothing is queued.
        await panel.GetByTestId("restore-tile-overlap").FillAsync("40");
        await panel.GetByTestId("restore-run").ClickAsync();
        await Assertions.Expect(panel.GetByTestId("restore-error")).ToContainTextAsync("parameters.tileOverlap is 40");
        await Assertions.Expect(panel.GetByTestId("restore-tile-overlap")).ToHaveValueAsync("40");
        Assert.Empty(await new ProcessingService(Library).HistoryAsync(null, 10, Ct));

        await panel.GetByTestId("restore-tile-overlap").FillAsync("8");
        await panel.GetByTestId("restore-run").ClickAsync();
        var failure = panel.GetByTestId("restore-failure");
        await Assertions.Expect(failure).ToBeVisibleAsync();
        await Assertions.Expect(failure).ToContainTextAsync("tiny@1 takes at most 100 pixels");
        await Assertions.Expect(panel.GetByTestId("restore-text")).ToHaveTextAsync("Failed.");
        await Assertions.Expect(panel.GetByTestId("restore-run")).ToBeEnabledAsync();
        Assert.EndsWith($"/media/{id}", Page.Url, StringComparison.Ordinal);
        var run = Assert.Single(await new ProcessingService(Library).HistoryAsync("alice", 10, Ct));
        Assert.Equal((JobStatus.Failed, (string?)null), (run.Status, run.Result));
        Assert.Empty(LineageView.Of(Library, Stored(id).Sidecar).Derivatives);

        // Viewers are not offered the panel at all.
        await Context.ClearCookiesAsync();
        await SignInAsync("vic");
        await Page.GotoAsync($"/media/{id}");
        await Assertions.Expect(Page.GetByTestId("media-page")).ToBeVisibleAsync();
        await Assertions.Expect(Page.GetByTestId("restore-panel")).ToHaveCountAsync(0);
        AssertNoScriptErrors();
    }

    [Fact]
    public async Task The_slider_shows_the_original_left_and_the_result_right_and_both_modes_keep_the_images_the_same_size()
    {
        await AddSwapAsync();
        var id = await ImportPngAsync("alice", "red.png", TestImages.Solid(480, 360, 220, 40, 40));
        var result = (await RunNowAsync("alice", id, "swap")).Result;
        await SignInAsync("alice");
        await Page.GotoAsync($"/media/{result}/compare");
        var compare = Page.GetByTestId("compare");
        await Assertions.Expect(compare).ToHaveAttributeAsync("data-ready", "true");
        await Assertions.Expect(Page.GetByTestId("compare-before-img")).ToHaveJSPropertyAsync("complete", true);
        await Assertions.Expect(Page.GetByTestId("compare-after-img")).ToHaveJSPropertyAsync("complete", true);
        var view = Page.GetByTestId("compare-view");
        var range = Page.GetByTestId("compare-range");
        await Assertions.Expect(range).ToHaveAttributeAsync("aria-valuenow", "50");
        await Assertions.Expect(range).ToHaveAccessibleNameAsync(new Regex("^Slider: before on the left, after on the right"));
        await Assertions.Expect(Page.GetByTestId("compare-before")).ToContainTextAsync("Before");
        await Assertions.Expect(Page.GetByTestId("compare-after")).ToContainTextAsync("After · swap@1");

        // Slider at 50 %: the original (red) left of it, the result (blue) right of it.
        var shot = await ShotAsync(view, "slider-50");
        Assert.True(IsRed(At(shot, 0.25, 0.6)), $"left of the slider: {At(shot, 0.25, 0.6)}");
        Assert.True(IsRed(At(shot, 0.45, 0.6)), $"just left of the slider: {At(shot, 0.45, 0.6)}");
        Assert.True(IsBlue(At(shot, 0.55, 0.6)), $"just right of the slider: {At(shot, 0.55, 0.6)}");
        Assert.True(IsBlue(At(shot, 0.75, 0.6)), $"right of the slider: {At(shot, 0.75, 0.6)}");
        var before = await Page.GetByTestId("compare-before-img").BoundingBoxAsync();
        var after = await Page.GetByTestId("compare-after-img").BoundingBoxAsync();
        Assert.Equal((before!.X, before.Y, before.Width, before.Height), (after!.X, after.Y, after.Width, after.Height));
        await ScreenshotAsync("compare-slider");

        // The keyboard moves it: five steps of 5 % right, one fine step back.
        for (var i = 0; i < 5; i++)
        {
            await Page.Keyboard.PressAsync("ArrowRight");
        }

        await Assertions.Expect(range).ToHaveAttributeAsync("aria-valuenow", "75");
        await Page.Keyboard.PressAsync("Shift+ArrowLeft");
        await Assertions.Expect(range).ToHaveAttributeAsync("aria-valuenow", "74");
        await Assertions.Expect(range).ToHaveAttributeAsync("aria-valuetext", "74 % before, 26 % after");
        shot = await ShotAsync(view, "slider-74");
        Assert.True(IsRed(At(shot, 0.6, 0.6)), $"now left of the slider: {At(shot, 0.6, 0.6)}");
        Assert.True(IsRed(At(shot, 0.7, 0.6)), $"still left of the slider: {At(shot, 0.7, 0.6)}");
        Assert.True(IsBlue(At(shot, 0.8, 0.6)), $"right of the slider: {At(shot, 0.8, 0.6)}");

        // Setting its value moves it too.
        await range.FillAsync("20");
        await Assertions.Expect(range).ToHaveAttributeAsync("aria-valuenow", "20");
        shot = await ShotAsync(view, "slider-20");
        Assert.True(IsRed(At(shot, 0.1, 0.6)), $"left of the slider: {At(shot, 0.1, 0.6)}");
        Assert.True(IsBlue(At(shot, 0.3, 0.6)), $"now right of the slider: {At(shot, 0.3, 0.6)}");
        Assert.True(IsBlue(At(shot, 0.5, 0.6)), $"the middle shows the result now: {At(shot, 0.5, 0.6)}");

        // And so does a drag on the picture.
        var box = (await view.BoundingBoxAsync())!;
        await Page.Mouse.MoveAsync(box.X + (box.Width * 0.3f), box.Y + (box.Height * 0.5f));
        await Page.Mouse.DownAsync();
        await Page.Mouse.MoveAsync(box.X + (box.Width * 0.6f), box.Y + (box.Height * 0.5f), new() { Steps = 4 });
        await Page.Mouse.UpAsync();
        await Assertions.Expect(range).ToHaveAttributeAsync("aria-valuenow", "60");
        shot = await ShotAsync(view, "slider-60");
        Assert.True(IsRed(At(shot, 0.5, 0.6)), $"left of the dragged slider: {At(shot, 0.5, 0.6)}");
        Assert.True(IsBlue(At(shot, 0.7, 0.6)), $"right of the dragged slider: {At(shot, 0.7, 0.6)}");

        // s: side by side, both images at the same displayed size, next to each other; the whole of each is shown.
        await Page.Keyboard.PressAsync("s");
        await Assertions.Expect(compare).ToHaveAttributeAsync("data-mode", "side");
        await Assertions.Expect(Page.GetByTestId("compare-mode-side")).ToHaveAttributeAsync("aria-pressed", "true");
        before = await Page.GetByTestId("compare-before-img").BoundingBoxAsync();
        after = await Page.GetByTestId("compare-after-img").BoundingBoxAsync();
        Assert.Equal((before!.Width, before.Height, before.Y), (after!.Width, after.Height, after.Y));
        Assert.True(before.X + before.Width <= after.X, $"before {before.X}+{before.Width}, after at {after.X}");
        Assert.True(before.Width > 100, $"width {before.Width}");
        Assert.Equal(480.0 / 360.0, before.Width / before.Height, 2);
        var left = await ShotAsync(Page.GetByTestId("compare-before"), "side-before");
        var right = await ShotAsync(Page.GetByTestId("compare-after"), "side-after");
        Assert.True(IsRed(At(left, 0.9, 0.6)) && IsRed(At(left, 0.1, 0.6)), $"the original, whole: {At(left, 0.1, 0.6)} {At(left, 0.9, 0.6)}");
        Assert.True(IsBlue(At(right, 0.1, 0.6)) && IsBlue(At(right, 0.9, 0.6)), $"the result, whole: {At(right, 0.1, 0.6)} {At(right, 0.9, 0.6)}");
        await ScreenshotAsync("compare-side");

        // Zoom: both at 100 % and 200 % of the result's pixels; scrolled in step.
        await Page.GetByTestId("compare-zoom-100").ClickAsync();
        await Assertions.Expect(compare).ToHaveAttributeAsync("data-zoom", "1");
        await Assertions.Expect(Page.GetByTestId("compare-before-img")).ToHaveJSPropertyAsync("offsetWidth", 480);
        await Assertions.Expect(Page.GetByTestId("compare-after-img")).ToHaveJSPropertyAsync("offsetWidth", 480);
        await Page.Keyboard.PressAsync("2");
        await Assertions.Expect(compare).ToHaveAttributeAsync("data-zoom", "2");
        await Assertions.Expect(Page.GetByTestId("compare-before-img")).ToHaveJSPropertyAsync("offsetWidth", 960);
        await Assertions.Expect(Page.GetByTestId("compare-after-img")).ToHaveJSPropertyAsync("offsetHeight", 720);
        await Page.GetByTestId("compare-after").Locator(".compare-pane").EvaluateAsync("p => { p.scrollLeft = 150; p.scrollTop = 90; }");
        await Assertions.Expect(Page.GetByTestId("compare-before").Locator(".compare-pane")).ToHaveJSPropertyAsync("scrollLeft", 150);
        await Assertions.Expect(Page.GetByTestId("compare-before").Locator(".compare-pane")).ToHaveJSPropertyAsync("scrollTop", 90);
        await Page.GetByTestId("compare-before").Locator(".compare-pane").EvaluateAsync("p => { p.scrollLeft = 40; }");
        await Assertions.Expect(Page.GetByTestId("compare-after").Locator(".compare-pane")).ToHaveJSPropertyAsync("scrollLeft", 40);

        // Back to the slider at fit: the boundary is where it was.
        await Page.Keyboard.PressAsync("f");
        await Page.GetByTestId("compare-mode-slider").ClickAsync();
        await Assertions.Expect(compare).ToHaveAttributeAsync("data-mode", "slider");
        await Assertions.Expect(compare).ToHaveAttributeAsync("data-zoom", "fit");
        shot = await ShotAsync(view, "slider-back");
        Assert.True(IsRed(At(shot, 0.5, 0.6)) && IsBlue(At(shot, 0.7, 0.6)), $"{At(shot, 0.5, 0.6)} {At(shot, 0.7, 0.6)}");
        AssertNoScriptErrors();
    }

    [Fact]
    public async Task Keep_and_discard_on_the_comparison_change_what_becomes_of_the_result()
    {
        await AddUpscalerAsync();
        await AddSwapAsync();
        var id = await ImportPngAsync("alice", "pier.png", TestImages.Photo(13, 100, 80));
        var kept = (await RunNowAsync("alice", id, "nearest2")).Result;
        var discarded = (await RunNowAsync("alice", id, "swap")).Result;

        // Someone else sees the state but may not decide; a forged post is refused and changes nothing.
        await SignInAsync("bob");
        await Page.GotoAsync($"/media/{kept}/compare");
        await Assertions.Expect(Page.GetByTestId("compare-state-text")).ToHaveTextAsync(ExpiresInADay());
        await Assertions.Expect(Page.GetByTestId("compare-keep")).ToHaveCountAsync(0);
        await Assertions.Expect(Page.GetByTestId("compare-state")).ToContainTextAsync("Only alice or a moderator can keep or discard it.");
        var bob = await Server.SessionAsync("bob");
        using (var forged = await bob.PostAsync(new Uri($"/media/{kept}/compare?handler=Keep", UriKind.Relative), new FormUrlEncodedContent([])))
        {
            Assert.Equal(HttpStatusCode.Forbidden, forged.StatusCode);
        }

        Assert.False(Stored(kept).Sidecar.DerivedFrom!.Kept);

        await Context.ClearCookiesAsync();
        await SignInAsync("alice");
        await Page.GotoAsync($"/media/{kept}/compare");
        var state = Page.GetByTestId("compare-state");
        await Assertions.Expect(state).ToHaveAttributeAsync("data-state", "unkept");
        await Page.GetByTestId("compare-keep").ClickAsync();
        await Assertions.Expect(state).ToHaveAttributeAsync("data-state", "kept");
        await Assertions.Expect(Page.GetByTestId("compare-state-text")).ToHaveTextAsync("kept");
        await Assertions.Expect(state.GetByTestId("message")).ToContainTextAsync("Kept");
        await Assertions.Expect(Page.GetByTestId("compare-keep")).ToHaveCountAsync(0);
        var derivation = Stored(kept).Sidecar.DerivedFrom!;
        Assert.Equal((true, (DateTimeOffset?)null), (derivation.Kept, derivation.ExpiresAt));

        await Page.GotoAsync($"/media/{discarded}/compare");
        await Page.GetByTestId("compare-discard").ClickAsync();
        await Assertions.Expect(state).ToHaveAttributeAsync("data-state", "trash");
        await Assertions.Expect(Page.GetByTestId("compare-state-text")).ToHaveTextAsync("in the trash");
        Assert.True(Stored(discarded).InTrash);
        Assert.False(Stored(kept).InTrash);

        var history = (await new ProcessingService(Library).HistoryAsync("alice", 10, Ct)).ToDictionary(r => r.Result!);
        Assert.Equal((ResultStates.Kept, ResultStates.Trash), (history[kept].ResultState, history[discarded].ResultState));
        await Page.ReloadAsync();
        await Assertions.Expect(Page.GetByTestId("compare-state-text")).ToHaveTextAsync("in the trash");
        await Assertions.Expect(Page.GetByTestId("compare-unavailable")).ToContainTextAsync("The result is in the trash");
        AssertNoScriptErrors();
    }

    [Fact]
    public async Task Both_images_pages_show_the_lineage_with_links_to_each_other_and_to_the_comparison()
    {
        await AddUpscalerAsync();
        var id = await ImportPngAsync("alice", "tower.png", TestImages.Photo(14, 100, 80));
        var result = (await RunNowAsync("alice", id, "nearest2", new Dictionary<string, string> { ["tileSize"] = "32" })).Result;
        await SignInAsync("alice");

        // The original lists what was derived from it; the raw relation is not repeated under Relations.
        await Page.GotoAsync($"/media/{id}");
        var derivative = Page.GetByTestId("derivative");
        await Assertions.Expect(derivative).ToHaveCountAsync(1);
        await Assertions.Expect(derivative).ToHaveAttributeAsync("data-id", result);
        await Assertions.Expect(derivative).ToHaveAttributeAsync("data-state", "library");
        await Assertions.Expect(derivative.GetByTestId("derivative-model")).ToHaveTextAsync("nearest2@1");
        await Assertions.Expect(derivative).ToContainTextAsync("tileSize=32");
        await Assertions.Expect(derivative.GetByTestId("derivative-state")).ToHaveTextAsync(ExpiresInADay());
        await Assertions.Expect(Page.Locator("[data-testid=relation][data-type=derivative]")).ToHaveCountAsync(0);
        await Assertions.Expect(Page.GetByTestId("relations-panel")).ToHaveCountAsync(0);
        await Assertions.Expect(Page.GetByTestId("derived-from")).ToHaveCountAsync(0);
        await ScreenshotAsync("lineage-original");

        await derivative.Locator("a.lineage-thumb").ClickAsync();
        await Page.WaitForURLAsync($"**/media/{result}");

        // The result says where it came from, how, when, by whom and until when.
        var from = Page.GetByTestId("derived-from");
        await Assertions.Expect(from).ToHaveAttributeAsync("data-original", id);
        await Assertions.Expect(from).ToContainTextAsync("Derived from");
        await Assertions.Expect(from.GetByTestId("derived-from-model")).ToHaveTextAsync("nearest2@1");
        await Assertions.Expect(from).ToContainTextAsync("(tileSize=32)");
        await Assertions.Expect(from).ToContainTextAsync("by alice");
        await Assertions.Expect(from.GetByTestId("derived-from-state")).ToHaveTextAsync(ExpiresInADay());
        await Assertions.Expect(Page.Locator("[data-testid=relation][data-type=derived-from]")).ToHaveCountAsync(0);
        await ScreenshotAsync("lineage-result");

        await from.GetByTestId("derived-from-compare").ClickAsync();
        await Page.WaitForURLAsync($"**/media/{result}/compare");
        await Page.GetByTestId("compare-keep").ClickAsync();
        await Assertions.Expect(Page.GetByTestId("compare-state")).ToHaveAttributeAsync("data-state", "kept");
        await Page.GetByTestId("compare-original-link").ClickAsync();
        await Page.WaitForURLAsync($"**/media/{id}");
        await Assertions.Expect(derivative.GetByTestId("derivative-state")).ToHaveTextAsync("kept");
        await derivative.GetByTestId("derivative-compare").ClickAsync();
        await Page.WaitForURLAsync($"**/media/{result}/compare");
        await Page.GetByTestId("compare-result-link").ClickAsync();
        await Page.WaitForURLAsync($"**/media/{result}");
        await Assertions.Expect(Page.GetByTestId("derived-from-state")).ToHaveTextAsync("kept");
        await Page.GetByTestId("derived-from-link").ClickAsync();
        await Page.WaitForURLAsync($"**/media/{id}");

        // An original has nothing to compare with (it points at its derived media); an unknown id is not found.
        await Page.GotoAsync($"/media/{id}/compare");
        await Assertions.Expect(Page.GetByTestId("compare-not-derived")).ToContainTextAsync("was not made by an upscaler or restorer");
        await Assertions.Expect(Page.GetByTestId("compare-not-derived").Locator($"a[href='/media/{result}/compare']")).ToHaveCountAsync(1);
        var missing = await Page.GotoAsync($"/media/{new string('e', 64)}/compare");
        Assert.Equal(404, missing!.Status);
        await Assertions.Expect(Page.GetByTestId("compare-not-found")).ToBeVisibleAsync();
        AssertNoScriptErrors();
    }

    [Fact]
    public async Task The_history_lists_runs_newest_first_with_their_results_progress_errors_and_keep_and_discard()
    {
        await AddUpscalerAsync();
        await AddSwapAsync();
        await AddModelAsync("tiny", ModelKinds.Restorer, OnnxModels.NearestUpscaler(1), """{"scale":1,"maxInputPixels":100}""");
        var id = await ImportPngAsync("alice", "quay.png", TestImages.Photo(15, 100, 80));
        var other = await ImportPngAsync("alice", "quay-2.png", TestImages.Photo(19, 100, 80));
        var first = (await RunNowAsync("alice", id, "nearest2", new Dictionary<string, string> { ["tileSize"] = "32" })).Result;
        await Assert.ThrowsAsync<Trove.Domain.TroveUsageException>(() => RunNowAsync("alice", id, "tiny"));
        var bobs = (await RunNowAsync("bob", id, "swap")).Result;

        await SignInAsync("alice");
        await Page.GotoAsync("/");
        await Page.GetByRole(AriaRole.Navigation, new() { Name = "Main" }).GetByRole(AriaRole.Link, new() { Name = "History" }).ClickAsync();
        await Page.WaitForURLAsync("**/history");
        var runs = Page.GetByTestId("history-run");
        await Assertions.Expect(runs).ToHaveCountAsync(2);
        await Assertions.Expect(Page.GetByTestId("history-everyone")).ToHaveCountAsync(0);
        var failed = Page.Locator("[data-testid=history-run][data-status=failed]");
        var done = Page.Locator($"[data-testid=history-run][data-result='{first}']");
        await Assertions.Expect(runs.Nth(0)).ToHaveAttributeAsync("data-status", "failed");
        await Assertions.Expect(failed).ToHaveAttributeAsync("data-status", "failed");
        await Assertions.Expect(failed.GetByTestId("history-model")).ToHaveTextAsync("tiny@1");
        await Assertions.Expect(failed.GetByTestId("history-error")).ToContainTextAsync("takes at most 100 pixels");
        await Assertions.Expect(done).ToHaveAttributeAsync("data-status", "succeeded");
        await Assertions.Expect(done).ToHaveAttributeAsync("data-result", first);
        await Assertions.Expect(done.GetByTestId("history-model")).ToHaveTextAsync("nearest2@1");
        await Assertions.Expect(done.GetByTestId("history-parameters")).ToHaveTextAsync("tileSize=32");
        await Assertions.Expect(done.GetByTestId("history-media")).ToHaveAttributeAsync("href", $"/media/{id}");
        await Assertions.Expect(done.GetByTestId("history-result")).ToHaveAttributeAsync("href", $"/media/{first}");
        await Assertions.Expect(done.GetByTestId("history-compare")).ToHaveAttributeAsync("href", $"/media/{first}/compare");
        await Assertions.Expect(done.GetByTestId("history-result-state")).ToHaveTextAsync(ExpiresInADay());
        await Assertions.Expect(done.GetByTestId("history-timings")).ToContainTextAsync(new Regex(@"queued \d+\.\d s\s+ran \d+\.\d s"));
        await Assertions.Expect(done).ToContainTextAsync("200 × 160 px");

        // A run in progress shows its tiles and the list follows it until it is done.
        Gate.Hold(allow: 1);
        JobRecord queued;
        using (Library.ActAs("alice"))
        {
            (_, queued) = await RestoreJobs.EnqueueAsync(Library, new RestoreRequest(other, "nearest2", new Dictionary<string, string>(), Keep: true), Ct);
        }

        await Page.ReloadAsync();
        var running = Page.Locator($"[data-testid=history-run][data-job='{queued.Id}']");
        await Assertions.Expect(runs.Nth(0)).ToHaveAttributeAsync("data-job", queued.Id);
        await Assertions.Expect(running).ToHaveAttributeAsync("data-status", "running");
        await Assertions.Expect(running).ToContainTextAsync("Upscaling 1 / ");
        await Assertions.Expect(running.GetByTestId("history-parameters")).ToHaveTextAsync("model defaults · keep");
        await Assertions.Expect(Page.Locator("#history")).ToHaveAttributeAsync("data-polling", "true");
        await ScreenshotAsync("history-running");
        Gate.Release();
        await Assertions.Expect(running).ToHaveAttributeAsync("data-status", "succeeded");
        await Assertions.Expect(running.GetByTestId("history-result-state")).ToHaveTextAsync("kept");
        await Assertions.Expect(Page.Locator("#history")).ToHaveAttributeAsync("data-polling", "false");
        await Assertions.Expect(runs).ToHaveCountAsync(3);

        // Keep and discard from the list.
        await Assertions.Expect(running.GetByTestId("history-keep")).ToHaveCountAsync(0);
        await done.GetByTestId("history-discard").ClickAsync();
        await Assertions.Expect(done).ToHaveAttributeAsync("data-result-state", "trash");
        await Assertions.Expect(done.GetByTestId("history-result-state")).ToHaveTextAsync("in the trash");
        await Assertions.Expect(Page.GetByTestId("message")).ToContainTextAsync("Discarded");
        Assert.True(Stored(first).InTrash);
        await ScreenshotAsync("history");

        // A moderator sees their own runs, and everyone's on asking; bob's result can be kept from there.
        await Context.ClearCookiesAsync();
        await SignInAsync("mod");
        await Page.GotoAsync("/history");
        await Assertions.Expect(Page.GetByTestId("history-empty")).ToBeVisibleAsync();
        await Page.GetByTestId("history-everyone").ClickAsync();
        await Page.WaitForURLAsync("**/history?all=true");
        await Assertions.Expect(runs).ToHaveCountAsync(4);
        var bobRun = Page.Locator($"[data-testid=history-run][data-result='{bobs}']");
        await Assertions.Expect(bobRun).ToContainTextAsync("by bob");
        await bobRun.GetByTestId("history-keep").ClickAsync();
        await Assertions.Expect(bobRun).ToHaveAttributeAsync("data-result-state", "kept");
        Assert.True(Stored(bobs).Sidecar.DerivedFrom!.Kept);
        await Assertions.Expect(runs).ToHaveCountAsync(4);
        AssertNoScriptErrors();
    }

    [Fact]
    public async Task Deleting_an_original_asks_what_becomes_of_its_derived_media_and_honours_the_choice()
    {
        await AddUpscalerAsync();
        await AddSwapAsync();
        var both = await ImportPngAsync("alice", "both.png", TestImages.Photo(16, 100, 80));
        var bothResult = (await RunNowAsync("alice", both, "nearest2")).Result;
        var only = await ImportPngAsync("alice", "only.png", TestImages.Photo(17, 100, 80));
        var onlyResult = (await RunNowAsync("alice", only, "nearest2")).Result;
        var bobsResult = (await RunNowAsync("bob", only, "swap")).Result;
        var plain = await ImportPngAsync("alice", "plain.png", TestImages.Photo(18, 100, 80));
        await SignInAsync("alice");

        // "Also move its derived media to the trash" (Del opens the question; Esc closes it without deleting).
        await Page.GotoAsync($"/media/{both}");
        var question = Page.GetByTestId("delete-derived");
        await Assertions.Expect(question).Not.ToBeVisibleAsync();
        await Page.Keyboard.PressAsync("Delete");
        await Assertions.Expect(question).ToBeVisibleAsync();
        await Assertions.Expect(question).ToContainTextAsync("One image was derived from it");
        await Page.Keyboard.PressAsync("Escape");
        await Assertions.Expect(question).Not.ToBeVisibleAsync();
        Assert.False(Stored(both).InTrash);
        await Page.GetByTestId("delete").ClickAsync();
        await Assertions.Expect(question.GetByTestId("delete-with-derived")).ToHaveTextAsync("Also move its derived media to the trash");
        await ScreenshotAsync("delete-derived");
        await question.GetByTestId("delete-with-derived").ClickAsync();
        await Assertions.Expect(Page.GetByTestId("in-trash")).ToBeVisibleAsync();
        Assert.True(Stored(both).InTrash);
        Assert.True(Stored(bothResult).InTrash);

        // "Delete only the original": its derived media stay, with their lineage. Bob's result is not alice's to trash.
        await Page.GotoAsync($"/media/{only}");
        var alice = await Server.SessionAsync("alice");
        var withDerived = new FormUrlEncodedContent([new("derived", "with")]);
        using (var refused = await alice.PostAsync(new Uri($"/media/{only}?handler=Delete", UriKind.Relative), withDerived))
        {
            Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        }

        Assert.False(Stored(only).InTrash);
        await Page.GetByTestId("delete").ClickAsync();
        await Assertions.Expect(question).ToContainTextAsync("2 images were derived from it");
        await Assertions.Expect(question.GetByTestId("delete-with-derived")).ToBeDisabledAsync();
        await Assertions.Expect(question.GetByTestId("delete-derived-others")).ToHaveTextAsync("1 of them belong to someone else; only a moderator can move them to the trash.");
        await question.GetByTestId("delete-keep-derived").ClickAsync();
        await Assertions.Expect(Page.GetByTestId("in-trash")).ToBeVisibleAsync();
        Assert.True(Stored(only).InTrash);
        Assert.False(Stored(onlyResult).InTrash);
        Assert.False(Stored(bobsResult).InTrash);
        await Page.GotoAsync($"/media/{onlyResult}");
        await Assertions.Expect(Page.GetByTestId("derived-from")).ToContainTextAsync("original in the trash");

        // Without derived media the button asks as it always did.
        await Page.GotoAsync($"/media/{plain}");
        Page.Dialog += async (_, dialog) => await dialog.AcceptAsync();
        await Page.GetByTestId("delete").ClickAsync();
        await Assertions.Expect(Page.GetByTestId("in-trash")).ToBeVisibleAsync();
        Assert.True(Stored(plain).InTrash);
        AssertNoScriptErrors();
    }

    private static Regex ExpiresInADay() => ExpiresInADayRegex();

    [GeneratedRegex("^expires in 2[34] h( \\d+ min)?$")]
    private static partial Regex ExpiresInADayRegex();

    [GeneratedRegex("/media/([0-9a-f]{64})/compare$")]
    private static partial Regex CompareUrl();

    [GeneratedRegex("^[0-9a-f]+$")]
    private static partial Regex JobId();
}
