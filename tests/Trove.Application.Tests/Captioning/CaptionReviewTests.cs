using System.Text.Json.Nodes;
using Trove.Application.Captioning;
using Trove.Application.Export;
using Trove.Domain;
using static Trove.Application.Tests.TestLibrary;

namespace Trove.Application.Tests.Captioning;

/// <summary>Generated captions wait for review: only approved ones count for search, the primary caption and export.</summary>
public sealed class CaptionReviewTests
{
    /// <summary>Adds a caption as a captioner writes it: source model, model and version, pending.</summary>
    private static async Task<int> GenerateAsync(TestLibrary t, string id, string text, string model = "blip", string version = "2")
    {
        await using var session = await t.Library.BeginWriteAsync(Ct);
        var stored = session.Read(id);
        var next = stored.Sidecar.NextCaptionId();
        stored.Sidecar.Captions.Add(new CaptionEntry
        {
            Id = next, Text = text, Source = CaptionSources.Model, Model = model, ModelVersion = version, Status = CaptionStatus.Pending, CreatedAt = session.Now, CreatedBy = "worker",
        });
        await session.SaveAsync(stored.Sidecar, stored.InTrash, Ct);
        return next;
    }

    [Fact]
    public async Task Pending_captions_are_not_captions_until_approved()
    {
        await using var t = await CreateAsync();
        var ids = await t.ImportPngsAsync([1, 2]);
        var pending = await GenerateAsync(t, ids[0], "a red fox in snow");

        Assert.Empty(await t.SearchIdsAsync("has:caption"));
        Assert.Empty(await t.SearchIdsAsync("caption:fox"));
        Assert.Equal([ids[0]], await t.SearchIdsAsync("caption-status:pending"));
        Assert.Null(t.ReadSidecar(ids[0]).PrimaryCaption);

        var listing = await t.Captions.ReviewAsync(ids[0], pending, CaptionReviewAction.Approve, null, Ct);

        var caption = Assert.Single(listing.Captions);
        Assert.Equal(CaptionStatus.Approved, caption.Status);
        Assert.True(caption.Primary); // the media had no primary caption
        Assert.Equal("test", caption.ReviewedBy);
        Assert.NotNull(caption.ReviewedAt);
        Assert.Equal([ids[0]], await t.SearchIdsAsync("has:caption"));
        Assert.Equal([ids[0]], await t.SearchIdsAsync("caption:fox"));
        Assert.Empty(await t.SearchIdsAsync("caption-status:pending"));
        Assert.Equal([ids[0]], await t.SearchIdsAsync("caption-status:approved"));
    }

    [Fact]
    public async Task Editing_before_approving_keeps_the_models_words_and_rejecting_keeps_it_out()
    {
        await using var t = await CreateAsync();
        var id = (await t.ImportPngsAsync([1]))[0];
        await t.Captions.AddAsync(id, "my own words", primary: true, Ct);
        var first = await GenerateAsync(t, id, "a dog on a bech");
        var second = await GenerateAsync(t, id, "a cat", version: "3");

        await t.Captions.ReviewAsync(id, first, CaptionReviewAction.Approve, "  a dog on a beach ", Ct);
        var listing = await t.Captions.ReviewAsync(id, second, CaptionReviewAction.Reject, null, Ct);

        var edited = listing.Captions.Single(c => c.Id == first);
        Assert.Equal("a dog on a beach", edited.Text);
        Assert.Equal("a dog on a bech", edited.GeneratedText);
        Assert.False(edited.Primary); // the person's caption stays primary
        var rejected = listing.Captions.Single(c => c.Id == second);
        Assert.Equal(CaptionStatus.Rejected, rejected.Status);
        Assert.Equal("my own words", t.ReadSidecar(id).PrimaryCaption!.Text);
        Assert.Equal([id], await t.SearchIdsAsync("caption:beach"));
        Assert.Empty(await t.SearchIdsAsync("caption:cat"));
        Assert.Equal([id], await t.SearchIdsAsync("caption-status:rejected"));

        // Make the edited one primary; the file keeps it all, and a rebuild from the files agrees.
        await t.Captions.ReviewAsync(id, first, CaptionReviewAction.Primary, null, Ct);
        Assert.Equal("a dog on a beach", t.ReadSidecar(id).PrimaryCaption!.Text);
        await RebuildService.RebuildAsync(t.Library, null, Ct);
        Assert.Equal([id], await t.SearchIdsAsync("caption-status:rejected caption:beach"));
        var json = JsonNode.Parse(await File.ReadAllTextAsync(t.SidecarPath(id)))!;
        var stored = json["captions"]!.AsArray().Single(c => (int)c!["id"]! == first)!;
        Assert.Equal("model", (string?)stored["source"]);
        Assert.Equal("blip", (string?)stored["model"]);
        Assert.Equal("2", (string?)stored["modelVersion"]);
        Assert.Equal("approved", (string?)stored["status"]);
    }

    [Fact]
    public async Task Peoples_captions_cannot_be_rejected_and_unknown_captions_are_named()
    {
        await using var t = await CreateAsync();
        var id = (await t.ImportPngsAsync([1]))[0];
        await t.Captions.AddAsync(id, "mine", primary: true, Ct);

        var notGenerated = await Assert.ThrowsAsync<TroveUsageException>(() => t.Captions.ReviewAsync(id, 1, CaptionReviewAction.Reject, null, Ct));
        Assert.Equal("caption-not-generated", notGenerated.Code);
        var missing = await Assert.ThrowsAsync<TroveUsageException>(() => t.Captions.ReviewAsync(id, 9, CaptionReviewAction.Approve, null, Ct));
        Assert.Equal("caption-not-found", missing.Code);
        Assert.Contains("#1", missing.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Export_leaves_pending_captions_out_unless_asked()
    {
        await using var t = await CreateAsync();
        var id = (await t.ImportPngsAsync([1], "beach"))[0];
        await GenerateAsync(t, id, "waves on sand");
        var sidecar = t.ReadSidecar(id);
        var vocabulary = new Vocabulary();
        var counts = new Dictionary<string, long>(StringComparer.Ordinal);
        var ranks = ExportService.RankCategories(vocabulary, []);

        Assert.Equal("beach", ExportService.CaptionText(sidecar, new ExportOptions("", "", Text: ExportText.Auto), vocabulary, counts, ranks));
        Assert.Equal(string.Empty, ExportService.CaptionText(sidecar, new ExportOptions("", "", Text: ExportText.Caption), vocabulary, counts, ranks));
        Assert.Equal("waves on sand", ExportService.CaptionText(sidecar, new ExportOptions("", "", Text: ExportText.Pending), vocabulary, counts, ranks));
    }

    [Theory]
    [InlineData("natural", "  \"A dog\n runs on   the beach.\" ", "A dog runs on the beach.")]
    [InlineData("natural", "Caption: a quiet street", "a quiet street")]
    [InlineData("tags", "Tags: Beach, sand , beach, waves., ,sky", "beach, sand, waves, sky")]
    [InlineData("natural", "   ", "")]
    public void Answers_are_cleaned_for_their_style(string style, string answer, string expected)
    {
        var parameters = CaptionerParameters.Parse(new JsonObject { ["style"] = style }, "m");
        Assert.Equal(expected, parameters.Clean(answer));
    }

    [Theory]
    [InlineData("""{"style":"poem"}""", "parameters.style")]
    [InlineData("""{"maxTokens":0}""", "parameters.maxTokens")]
    [InlineData("""{"temperature":"hot"}""", "parameters.temperature")]
    [InlineData("""{"prompt":"  "}""", "parameters.prompt")]
    [InlineData("""{"promt":"typo"}""", "parameters.promt")]
    public void Bad_captioner_parameters_name_the_field(string json, string field)
    {
        var ex = Assert.Throws<TroveUsageException>(() => CaptionerParameters.Parse(JsonNode.Parse(json)!.AsObject(), "blip"));
        Assert.Equal("model-parameters-invalid", ex.Code);
        Assert.Contains(field, ex.Message, StringComparison.Ordinal);
        Assert.Contains("'blip'", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Defaults_suit_training_captions()
    {
        var natural = CaptionerParameters.Parse(null, "m");
        Assert.Equal(CaptionStyles.Natural, natural.Style);
        Assert.Equal(CaptionerParameters.NaturalPrompt, natural.Prompt);
        Assert.Equal(300, natural.MaxTokens);
        Assert.Equal(CaptionerParameters.TagsPrompt, CaptionerParameters.Parse(new JsonObject { ["style"] = "tags" }, "m").Prompt);
    }
}
