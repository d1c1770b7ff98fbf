using System.Text.Json.Nodes;
using Trove.Application.Tagging;
using Trove.Domain;
using Trove.Library;
using static Trove.Application.Tests.TestLibrary;
using ManualClock = Trove.Testing.ManualClock;

namespace Trove.Application.Tests.Tagging;

public sealed class SuggestionServiceTests
{
    private static readonly DateTimeOffset T0 = new(2025, 3, 1, 12, 0, 0, TimeSpan.Zero);

    private static ModelCandidates Model(string model, string version, params (string Tag, double Confidence)[] tags) =>
        new(model, version, tags.Select(t => new TagCandidate(t.Tag, t.Confidence)).ToList());

    private static ModelCandidates Custom(params (string, double)[] tags) => Model("custom", "2", tags);

    private static ModelCandidates Danbooru(params (string, double)[] tags) => Model("wd14", "v3", tags);

    private static TagSuggestion Get(TestLibrary t, string id, string tag) => t.ReadSidecar(id).Suggestions.Single(s => s.Tag == tag);

    [Fact]
    public async Task Models_merge_by_priority_in_one_write()
    {
        await using var t = await CreateAsync();
        var id = (await t.ImportPngsAsync([1]))[0];
        var service = new SuggestionService(t.Library);
        var revision = t.ReadSidecar(id).Revision;

        var result = await service.ApplyAsync(id[..8], [Custom(("red", 0.8), ("cat", 0.65)), Danbooru(("red", 0.95), ("blue", 0.7), ("cat", 0.9))], force: false, Ct);

        Assert.Equal(id, result.Id);
        Assert.True(result.Written);
        Assert.Equal(3, result.Added);
        Assert.Equal(revision + 1, t.ReadSidecar(id).Revision);
        var suggestions = t.ReadSidecar(id).Suggestions;
        Assert.Equal(
            [("red", 0.8, "custom", "2"), ("cat", 0.65, "custom", "2"), ("blue", 0.7, "wd14", "v3")],
            suggestions.Select(s => (s.Tag, s.Confidence, s.Model!, s.ModelVersion!)));
        Assert.All(suggestions, s => Assert.Equal((SuggestionStatus.Pending, (string?)null, (DateTimeOffset?)null), (s.Status, s.ReviewedBy, s.ReviewedAt)));

        // Nothing new: no write.
        var again = await service.ApplyAsync(id, [Custom(("red", 0.8))], force: false, Ct);
        Assert.False(again.Written);
        Assert.Equal(SuggestionOutcomes.Unchanged, Assert.Single(again.Changes).Outcome);
        Assert.Equal(revision + 1, t.ReadSidecar(id).Revision);
    }

    [Fact]
    public async Task Aliases_resolve_to_the_canonical_tag_and_are_marked()
    {
        await using var t = await CreateAsync();
        var id = (await t.ImportPngsAsync([1]))[0];
        await t.Tags.AliasAsync("kitty", "cat", Ct);
        var service = new SuggestionService(t.Library);

        var result = await service.ApplyAsync(id, [Custom(("Kitty", 0.9)), Danbooru(("cat", 0.99))], false, Ct);

        var cat = Assert.Single(t.ReadSidecar(id).Suggestions);
        Assert.Equal(("cat", 0.9, "custom", "kitty"), (cat.Tag, cat.Confidence, cat.Model!, cat.ResolvedFrom!));
        Assert.Equal("kitty", Assert.Single(result.Changes).ResolvedFrom);
        Assert.Contains("\"resolvedFrom\": \"kitty\"", File.ReadAllText(t.SidecarPath(id)), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Implied_parents_follow_a_child_above_0_7_at_0_9_times_its_confidence()
    {
        await using var t = await CreateAsync();
        var ids = await t.ImportPngsAsync([1, 2, 3, 4]);
        await t.Tags.ImplyAsync("cat", "animal", Ct);
        await t.Tags.ImplyAsync("animal", "living_thing", Ct);
        var service = new SuggestionService(t.Library);

        await service.ApplyAsync(ids[0], [Custom(("cat", 0.71))], false, Ct);
        await service.ApplyAsync(ids[1], [Custom(("cat", 0.7))], false, Ct);
        await service.ApplyAsync(ids[2], [Custom(("cat", 0.95))], false, Ct);
        await service.ApplyAsync(ids[3], [Custom(("cat", 0.95), ("animal", 0.65))], false, Ct);

        var animal = Get(t, ids[0], "animal");
        Assert.Equal((0.639, "cat", "custom", "2"), (animal.Confidence, animal.ImpliedBy!, animal.Model!, animal.ModelVersion!));
        Assert.Equal(["cat", "animal"], t.ReadSidecar(ids[0]).Suggestions.Select(s => s.Tag)); // 0.639 is not > 0.7: no living_thing

        Assert.Equal(["cat"], t.ReadSidecar(ids[1]).Suggestions.Select(s => s.Tag)); // 0.7 is not > 0.7

        Assert.Equal(
            [("cat", 0.95, null), ("animal", 0.855, "cat"), ("living_thing", 0.7695, "animal")],
            t.ReadSidecar(ids[2]).Suggestions.Select(s => (s.Tag, s.Confidence, s.ImpliedBy)));

        // A parent the model proposed itself keeps the model's own confidence; its parent follows from the better path.
        Assert.Equal(
            [("cat", 0.95, null), ("animal", 0.65, null)],
            t.ReadSidecar(ids[3]).Suggestions.Select(s => (s.Tag, s.Confidence, s.ImpliedBy)));
    }

    [Fact]
    public async Task Tags_the_media_has_are_not_suggested()
    {
        await using var t = await CreateAsync();
        var id = (await t.ImportPngsAsync([1], "red", "cat"))[0];
        await t.Tags.ImplyAsync("cat", "animal", Ct);

        var result = await new SuggestionService(t.Library).ApplyAsync(id, [Custom(("red", 0.9), ("cat", 0.9), ("blue", 0.8))], false, Ct);

        Assert.Equal(["blue"], t.ReadSidecar(id).Suggestions.Select(s => s.Tag));
        Assert.Equal([("red", SuggestionOutcomes.HasTag), ("cat", SuggestionOutcomes.HasTag), ("blue", SuggestionOutcomes.Added)], result.Changes.Select(c => (c.Tag, c.Outcome)));
    }

    [Fact]
    public async Task A_rejected_tag_is_never_suggested_again_unless_forced_and_forcing_makes_it_pending_with_the_new_confidence()
    {
        var clock = new ManualClock(T0);
        await using var t = await CreateAsync(clock: clock);
        var id = (await t.ImportPngsAsync([1]))[0];
        var service = new SuggestionService(t.Library);
        await service.ApplyAsync(id, [Custom(("red", 0.8), ("blue", 0.9))], false, Ct);
        using (t.Library.ActAs("mod"))
        {
            await service.ReviewAsync(id, [], ["red"], Ct);
        }

        clock.Advance(TimeSpan.FromHours(1));
        var again = await service.ApplyAsync(id, [Danbooru(("red", 0.99), ("blue", 0.95))], false, Ct);
        Assert.Equal([("red", SuggestionOutcomes.Rejected), ("blue", SuggestionOutcomes.Unchanged)], again.Changes.Select(c => (c.Tag, c.Outcome)));
        Assert.False(again.Written);
        var red = Get(t, id, "red");
        Assert.Equal((SuggestionStatus.Rejected, 0.8, "mod"), (red.Status, red.Confidence, red.ReviewedBy!));

        clock.Advance(TimeSpan.FromHours(1));
        var forced = await service.ApplyAsync(id, [Danbooru(("red", 0.99), ("blue", 0.95))], true, Ct);
        Assert.Equal([("red", SuggestionOutcomes.Updated), ("blue", SuggestionOutcomes.Updated)], forced.Changes.Select(c => (c.Tag, c.Outcome)));
        red = Get(t, id, "red");
        Assert.Equal(
            (SuggestionStatus.Pending, 0.99, "wd14", "v3", (string?)null, (DateTimeOffset?)null, T0.AddHours(2)),
            (red.Status, red.Confidence, red.Model!, red.ModelVersion!, red.ReviewedBy, red.ReviewedAt, red.CreatedAt));
        Assert.Single(t.ReadSidecar(id).Suggestions, s => s.Tag == "red"); // still one per (media, tag)
        Assert.Equal(0.95, Get(t, id, "blue").Confidence);
    }

    [Fact]
    public async Task Approving_adds_the_tag_with_its_provenance_and_implications()
    {
        var clock = new ManualClock(T0);
        await using var t = await CreateAsync(clock: clock);
        var id = (await t.ImportPngsAsync([1]))[0];
        await t.Tags.ImplyAsync("cat", "animal", Ct);
        await t.Tags.ImplyAsync("animal", "living_thing", Ct);
        var service = new SuggestionService(t.Library);
        await service.ApplyAsync(id, [Custom(("cat", 0.75)), Danbooru(("blue", 0.6))], false, Ct);
        Assert.Equal(SuggestionStatus.Pending, Get(t, id, "animal").Status);

        clock.Advance(TimeSpan.FromMinutes(5));
        ReviewResult review;
        using (t.Library.ActAs("alice"))
        {
            review = await service.ReviewAsync(id, ["cat"], ["blue"], Ct);
        }

        Assert.Equal((1, 1, 0), (review.Approved, review.Rejected, review.Failed));
        Assert.Equal(["cat", "animal", "living_thing"], review.TagsAdded);
        Assert.Equal(["animal"], review.AlsoApproved);
        Assert.Equal(["cat", "animal", "living_thing"], t.TagsOf(id));

        var tags = t.ReadSidecar(id).Tags;
        var cat = tags.Single(x => x.Name == "cat");
        Assert.Equal((TagSources.Suggestion, "custom@2", "alice", T0.AddMinutes(5)), (cat.Source, cat.Via!, cat.AddedBy!, cat.AddedAt));
        var animalTag = tags.Single(x => x.Name == "animal");
        Assert.Equal((TagSources.Implication, "cat"), (animalTag.Source, animalTag.Via!));

        var catSuggestion = Get(t, id, "cat");
        Assert.Equal((SuggestionStatus.Approved, "alice", T0.AddMinutes(5), "custom", "2"), (catSuggestion.Status, catSuggestion.ReviewedBy!, catSuggestion.ReviewedAt!.Value, catSuggestion.Model!, catSuggestion.ModelVersion!));
        var animal = Get(t, id, "animal");
        Assert.Equal((SuggestionStatus.Approved, "alice", "cat"), (animal.Status, animal.ReviewedBy!, animal.ImpliedBy!));
        var blue = Get(t, id, "blue");
        Assert.Equal((SuggestionStatus.Rejected, "alice", T0.AddMinutes(5), "wd14", "v3"), (blue.Status, blue.ReviewedBy!, blue.ReviewedAt!.Value, blue.Model!, blue.ModelVersion!));
        Assert.DoesNotContain("blue", t.TagsOf(id));

        // The decision is searchable: approved tags are tags, nothing is pending any more.
        Assert.Equal([id], await t.SearchIdsAsync("cat living_thing"));
        Assert.Empty(await t.SearchIdsAsync("has:suggestions"));
    }

    [Fact]
    public async Task Review_reports_each_item_and_applies_the_rest()
    {
        await using var t = await CreateAsync();
        var id = (await t.ImportPngsAsync([1]))[0];
        await t.Tags.AliasAsync("kitty", "cat", Ct);
        var service = new SuggestionService(t.Library);
        await service.ApplyAsync(id, [Custom(("cat", 0.9), ("red", 0.8), ("blue", 0.8), ("green", 0.7))], false, Ct);
        await service.ReviewAsync(id, ["green"], [], Ct);

        var review = await service.ReviewAsync(id, ["kitty", "nope", "-bad", "green", "blue", "cat"], ["red", "blue"], Ct);

        Assert.Equal(
            [
                ("cat", ReviewActions.Approve, true, null),
                ("nope", ReviewActions.Approve, false, "suggestion-not-found"),
                ("-bad", ReviewActions.Approve, false, "invalid-tag"),
                ("green", ReviewActions.Approve, false, "already-approved"),
                ("blue", ReviewActions.Approve, false, "approve-and-reject"),
                ("red", ReviewActions.Reject, true, null),
                ("blue", ReviewActions.Reject, false, "approve-and-reject"),
            ],
            review.Items.Select(i => (i.Tag, i.Action, i.Ok, i.Code)));
        Assert.Contains("was already approved by test", review.Items[3].Message, StringComparison.Ordinal);
        Assert.Equal(["green", "cat"], t.TagsOf(id));
        Assert.Equal(SuggestionStatus.Pending, Get(t, id, "blue").Status);

        var none = await service.ReviewAsync(id, [], ["red"], Ct);
        Assert.Equal("already-rejected", Assert.Single(none.Items).Code);

        await Assert.ThrowsAsync<TroveException>(() => service.ReviewAsync("ffffffffff", ["x"], [], Ct));
    }

    [Fact]
    public async Task Approving_a_tag_the_media_already_has_marks_it_approved_without_a_second_tag()
    {
        await using var t = await CreateAsync();
        var id = (await t.ImportPngsAsync([1]))[0];
        var service = new SuggestionService(t.Library);
        await service.ApplyAsync(id, [Custom(("red", 0.9))], false, Ct);
        await t.Tags.AddAsync(id, ["red"], Ct);

        var review = await service.ReviewAsync(id, ["red"], [], Ct);

        var item = Assert.Single(review.Items);
        Assert.Equal((true, "already-tagged"), (item.Ok, item.Code));
        Assert.Empty(review.TagsAdded);
        Assert.Equal(TagSources.Manual, t.ReadSidecar(id).Tags.Single().Source);
        Assert.Equal(SuggestionStatus.Approved, Get(t, id, "red").Status);
    }

    [Fact]
    public async Task An_approved_tag_new_to_the_library_takes_the_models_category()
    {
        await using var t = await CreateAsync();
        var ids = await t.ImportPngsAsync([1, 2]);
        var service = new SuggestionService(t.Library);
        var rating = new ModelCandidates("wd14", "v3", [new TagCandidate("rating_explicit", 0.9, "rating", "explicit"), new TagCandidate("saber", 0.8, "character")]);
        await service.ApplyAsync(ids[0], [rating], false, Ct);
        await t.Tags.AddAsync(ids[1], ["saber"], Ct); // saber exists already (as general): left alone

        await service.ReviewAsync(ids[0], ["rating_explicit", "saber"], [], Ct);

        var vocabulary = await t.Tags.VocabularyAsync(Ct);
        Assert.Equal(("rating", "general"), (vocabulary.CategoryOf("rating_explicit"), vocabulary.CategoryOf("saber")));
        var suggestion = Get(t, ids[0], "rating_explicit");
        Assert.Equal(("rating", "explicit"), (suggestion.Category, suggestion.External));
        Assert.Equal("wd14@v3", t.ReadSidecar(ids[0]).Tags.Single(x => x.Name == "rating_explicit").Via);
    }

    [Fact]
    public async Task Pending_suggestions_are_searchable_and_every_decision_survives_a_rebuild()
    {
        await using var t = await CreateAsync();
        var ids = await t.ImportPngsAsync([1, 2]);
        var service = new SuggestionService(t.Library);
        await service.ApplyAsync(ids[0], [Custom(("red", 0.8), ("blue", 0.7), ("green", 0.9))], false, Ct);
        await service.ApplyAsync(ids[1], [Danbooru(("red", 0.6))], false, Ct);

        Assert.Equal(ids.Order(StringComparer.Ordinal), (await t.SearchIdsAsync("suggested:red")).Order(StringComparer.Ordinal));
        Assert.Equal([ids[0]], await t.SearchIdsAsync("suggested:blue"));

        await service.ReviewAsync(ids[0], ["green"], ["red"], Ct);
        Assert.Equal([ids[1]], await t.SearchIdsAsync("suggested:red"));
        var before = t.ReadSidecar(ids[0]).Suggestions.Select(s => (s.Tag, s.Status, s.ReviewedBy, s.ReviewedAt, s.Confidence)).ToList();

        await RebuildService.RebuildAsync(t.Library, null, Ct);

        Assert.Equal(before, t.ReadSidecar(ids[0]).Suggestions.Select(s => (s.Tag, s.Status, s.ReviewedBy, s.ReviewedAt, s.Confidence)));
        Assert.Equal([ids[1]], await t.SearchIdsAsync("suggested:red"));
        Assert.Equal([ids[0]], await t.SearchIdsAsync("suggested:blue green"));
        var again = await service.ApplyAsync(ids[0], [Custom(("red", 0.99))], false, Ct);
        Assert.Equal(SuggestionOutcomes.Rejected, Assert.Single(again.Changes).Outcome);
    }

    [Fact]
    public async Task List_filters_by_status_best_first()
    {
        await using var t = await CreateAsync();
        var id = (await t.ImportPngsAsync([1]))[0];
        var service = new SuggestionService(t.Library);
        await service.ApplyAsync(id, [Custom(("a", 0.7), ("b", 0.9), ("c", 0.8))], false, Ct);
        await service.ReviewAsync(id, [], ["c"], Ct);

        var all = await service.ListAsync(id[..10], null, Ct);
        Assert.Equal(["b", "c", "a"], all.Suggestions.Select(s => s.Tag));
        Assert.Equal(2, all.Pending);
        Assert.Equal(["b", "a"], (await service.ListAsync(id, "Pending", Ct)).Suggestions.Select(s => s.Tag));
        var rejected = await service.ListAsync(id, "rejected", Ct);
        Assert.Equal(["c"], rejected.Suggestions.Select(s => s.Tag));

        // The counts cover all the media's suggestions, whatever the filter.
        Assert.Equal((2, 0, 1, 3), (rejected.Pending, rejected.Approved, rejected.Rejected, rejected.Total));
        await service.ReviewAsync(id, ["b"], [], Ct);
        var approved = await service.ListAsync(id, "approved", Ct);
        Assert.Equal(["b"], approved.Suggestions.Select(s => s.Tag));
        Assert.Equal((1, 1, 1, 3), (approved.Pending, approved.Approved, approved.Rejected, approved.Total));
        Assert.Equal("invalid-status", (await Assert.ThrowsAsync<TroveUsageException>(() => service.ListAsync(id, "maybe", Ct))).Code);
    }

    [Fact]
    public async Task Older_review_decisions_still_keep_rejected_tags_away()
    {
        await using var t = await CreateAsync();
        var id = (await t.ImportPngsAsync([1]))[0];
        t.EditSidecarJson(id, json => json["reviews"] = new JsonArray(
            new JsonObject { ["tag"] = "Red", ["decision"] = "rejected", ["model"] = "wd14@2", ["by"] = "mod", ["at"] = "2024-01-01T00:00:00+00:00" }));
        await t.ReopenAsync();
        var service = new SuggestionService(t.Library);

        var result = await service.ApplyAsync(id, [Custom(("red", 0.9))], false, Ct);
        Assert.Equal(SuggestionOutcomes.Rejected, Assert.Single(result.Changes).Outcome);

        var forced = await service.ApplyAsync(id, [Custom(("red", 0.9))], true, Ct);
        Assert.Equal(SuggestionOutcomes.Added, Assert.Single(forced.Changes).Outcome);
        Assert.Single(t.ReadSidecar(id).Reviews); // read, never rewritten
    }

    [Fact]
    public async Task Sidecars_without_the_new_marks_read_and_bad_marks_are_named()
    {
        await using var t = await CreateAsync();
        var id = (await t.ImportPngsAsync([1]))[0];
        t.EditSidecarJson(id, json => json["suggestions"] = new JsonArray(
            new JsonObject { ["tag"] = "Red", ["confidence"] = 0.8, ["model"] = "wd14", ["modelVersion"] = "1", ["status"] = "pending", ["createdAt"] = "2024-01-01T00:00:00+00:00" }));
        var old = Assert.Single(t.ReadSidecar(id).Suggestions);
        Assert.Equal(("red", null, null, null, null), (old.Tag, old.ImpliedBy, old.ResolvedFrom, old.Category, old.External));

        t.EditSidecarJson(id, json => json["suggestions"]![0]!["impliedBy"] = "Big Cat");
        Assert.Equal("big_cat", t.ReadSidecar(id).Suggestions[0].ImpliedBy);

        t.EditSidecarJson(id, json => json["suggestions"]![0]!["resolvedFrom"] = "-x");
        var ex = Assert.Throws<FileFormatException>(() => t.ReadSidecar(id));
        Assert.Contains("$.suggestions[0].resolvedFrom", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Invalid_candidates_are_reported_not_stored()
    {
        await using var t = await CreateAsync();
        var id = (await t.ImportPngsAsync([1]))[0];
        var service = new SuggestionService(t.Library);

        var result = await service.ApplyAsync(id, [Custom(("-bad", 0.9), ("ok", 1.5), ("fine", 0.6))], false, Ct);

        Assert.Equal(["fine"], t.ReadSidecar(id).Suggestions.Select(s => s.Tag));
        Assert.Equal(2, result.Changes.Count(c => c.Outcome == SuggestionOutcomes.Invalid));
        await Assert.ThrowsAsync<TroveUsageException>(() => service.ApplyAsync(id, [Model("", "1", ("x", 0.9))], false, Ct));
    }

    [Fact]
    public async Task From_an_image_file_to_pending_suggestions()
    {
        await using var t = await CreateWithImagingAsync();
        var id = await t.ImportFileAsync("red.png", path => Trove.Testing.TestImages.WritePng(path, Trove.Testing.TestImages.Solid(40, 20, 230, 10, 10)));
        var pre = new TaggerPreprocessing { Size = 32 };
        var labels = TaggerLabelSet.FromNames(["red", "green", "blue"]);

        // Stand-in for the model: the mean of each channel of the (BGR, 0–255) tensor, as a score.
        var tensor = TaggerTensors.FromFile(t.Library.Imaging, t.OriginalPath(id), pre, Ports.ImageLimits.Default, Ct);
        var scores = new float[3];
        for (var i = 0; i < tensor.Length; i += 3)
        {
            scores[0] += tensor[i + 2] / 255f / (tensor.Length / 3);
            scores[1] += tensor[i + 1] / 255f / (tensor.Length / 3);
            scores[2] += tensor[i] / 255f / (tensor.Length / 3);
        }

        var candidates = TaggerPipeline.Candidates("colours", "1", scores, labels, TaggerThresholds.Default, new TagMappingSet("colours", UnmappedPolicy.Create), new HashSet<string>());
        var result = await new SuggestionService(t.Library).ApplyAsync(id, [candidates.Candidates], false, Ct);

        var red = Assert.Single(t.ReadSidecar(id).Suggestions);
        Assert.Equal(("red", SuggestionStatus.Pending, "colours", "1"), (red.Tag, red.Status, red.Model!, red.ModelVersion!));
        Assert.InRange(red.Confidence, 0.945, 0.957); // half the square is the image (230/255), half white padding: ≈ 0.951
        Assert.Equal(1, result.Added);
        Assert.Equal([id], await t.SearchIdsAsync("suggested:red"));
    }

    [Fact]
    public async Task A_suggestion_whose_tag_became_an_alias_is_reviewed_under_the_canonical_tag()
    {
        await using var t = await CreateAsync();
        var id = (await t.ImportPngsAsync([1]))[0];
        var service = new SuggestionService(t.Library);
        await service.ApplyAsync(id, [Custom(("kitty", 0.9))], false, Ct);
        await t.Tags.AliasAsync("kitty", "cat", Ct);

        var again = await service.ApplyAsync(id, [Danbooru(("cat", 0.95))], false, Ct);
        Assert.Equal(SuggestionOutcomes.Unchanged, Assert.Single(again.Changes).Outcome); // still one suggestion

        var review = await service.ReviewAsync(id, ["kitty"], [], Ct);

        Assert.Equal(("cat", true), (review.Items[0].Tag, review.Items[0].Ok));
        Assert.Equal(["cat"], t.TagsOf(id));
        var cat = Assert.Single(t.ReadSidecar(id).Suggestions);
        Assert.Equal(("cat", "kitty", SuggestionStatus.Approved), (cat.Tag, cat.ResolvedFrom!, cat.Status));
    }
}
