using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Trove.Application.Models;
using Trove.Domain.Models;
using Trove.Server.Auth;

namespace Trove.Server.Api;

public sealed record ModelVersionResponse(string Version, string? Labels, JsonObject? Metrics, DateTimeOffset? DeployedAt, bool Active);

public sealed record ModelResponse(
    string Id, string Name, string Kind, string Provider, string? Description, string? Category, IReadOnlyList<string> Tags,
    JsonObject? Parameters, string? Active, IReadOnlyList<ModelVersionResponse> Versions)
{
    // File paths stay on the server: they say nothing to a client and something to an attacker.
    public static ModelResponse From(ModelDefinition m) => new(
        m.Id, m.Name, m.Kind, m.Provider, m.Description, m.Category, m.Tags, m.Parameters, m.ActiveVersion?.Version,
        m.Versions.Select(v => new ModelVersionResponse(v.Version, v.Labels is null ? null : Path.GetFileName(v.Labels), v.Metrics, v.DeployedAt, v.Active)).ToList());
}

/// <summary>GET /api/models and /api/models/{id}: the registry, public unless <see cref="ServerSettings.ModelsPublic"/> is off.</summary>
public static class ModelEndpoints
{
    /// <summary>Mapped outside the /api group's read policy: <see cref="Policies.Models"/> alone decides.</summary>
    public static void Map(IEndpointRouteBuilder app)
    {
        var models = app.MapGroup("/api/models").WithTags("Models").RequireAuthorization(Policies.Models);
        models.MapGet("/", async (ModelRegistry registry, string? kind, CancellationToken ct) =>
            TypedResults.Ok((await registry.ListAsync(ct).ConfigureAwait(false)).Where(m => kind is null || m.Kind == kind).Select(ModelResponse.From).ToList()))
            .WithSummary("Registered models with their versions and the active one (?kind=tagger)");
        models.MapGet("/{id}", async Task<Ok<ModelResponse>> (string id, ModelRegistry registry, CancellationToken ct) =>
            TypedResults.Ok(ModelResponse.From(await registry.GetAsync(id, ct).ConfigureAwait(false))))
            .WithSummary("One model with all its versions");
    }
}
