using System.Net;
using System.Text.Json.Nodes;
using Trove.Domain.Models;

namespace Trove.Server.Tests;

public sealed class ModelApiTests
{
    private static async Task RegisterAsync(TestServer server)
    {
        // Written as a user would edit models.json; the registry reads and validates it on each request.
        var catalog = new ModelCatalog
        {
            Models =
            {
                new ModelDefinition
                {
                    Id = "wd14", Name = "WD14 tagger", Kind = ModelKinds.Tagger, Category = "danbooru",
                    Parameters = new JsonObject { ["size"] = 448 },
                    Versions =
                    {
                        new ModelVersionEntry { Version = "v1", File = "/srv/models/wd14-v1.onnx", Labels = "/srv/models/selected_tags.csv" },
                        new ModelVersionEntry { Version = "v2", File = "/srv/models/wd14-v2.onnx", Labels = "/srv/models/selected_tags.csv", Active = true },
                    },
                },
            },
        };
        await using var session = await server.Library.BeginWriteAsync(CancellationToken.None);
        session.SaveModels(catalog);
    }

    [Fact]
    public async Task Models_are_listed_publicly_by_default_without_file_paths()
    {
        await using var server = await TestServer.StartAsync(imaging: false);
        await RegisterAsync(server);
        var list = (JsonArray)await TestServer.JsonAsync(await server.Anonymous().GetAsync("/api/models"));
        var model = Assert.Single(list)!;
        Assert.Equal("wd14", (string?)model["id"]);
        Assert.Equal("v2", (string?)model["active"]);
        Assert.Equal(2, ((JsonArray)model["versions"]!).Count);
        Assert.DoesNotContain("/srv/models", list.ToJsonString(), StringComparison.Ordinal);

        var one = await TestServer.JsonAsync(await server.Anonymous().GetAsync("/api/models/wd14"));
        Assert.Equal("tagger", (string?)one["kind"]);
        await TestServer.ProblemAsync(await server.Anonymous().GetAsync("/api/models/nope"), HttpStatusCode.NotFound, "model-not-found");
        Assert.Empty((JsonArray)await TestServer.JsonAsync(await server.Anonymous().GetAsync("/api/models?kind=upscaler")));
    }

    [Fact]
    public async Task Models_need_sign_in_when_configured()
    {
        await using var server = await TestServer.StartAsync(s => s.ModelsPublic = false, imaging: false);
        await RegisterAsync(server);
        await TestServer.ProblemAsync(await server.Anonymous().GetAsync("/api/models"), HttpStatusCode.Unauthorized);
        Assert.Single((JsonArray)await TestServer.JsonAsync(await server.As("vic").GetAsync("/api/models")));
    }
}
