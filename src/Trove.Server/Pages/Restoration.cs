using System.Globalization;
using Trove.Application;
using Trove.Application.Accounts;
using Trove.Application.Restoration;
using Trove.Domain;
using Trove.Domain.Models;

namespace Trove.Server.Pages;

/// <summary>
/// An active upscaler or restorer as the image page's "Restore / upscale" panel offers it: the version that would run,
/// and the defaults its form fields start from (from the model's parameters in models.json). A model whose parameters
/// do not parse is listed with its <see cref="Problem"/> and cannot be chosen.
/// </summary>
public sealed record RestoreModelOption(
    string Id,
    string Name,
    string Kind,
    string Version,
    int Scale,
    int TileSize,
    int TileOverlap,
    string? Prompt,
    string? Provider,
    string? Problem)
{
    /// <summary>What the form posts and the job runs: ID@VERSION.</summary>
    public string Reference => $"{Id}@{Version}";

    public bool Remote => Provider is not null;

    /// <summary>A prompt goes to prompt-driven models: remote ones, or a model whose parameters have one.</summary>
    public bool AcceptsPrompt => Remote || Prompt is not null;

    /// <summary>"Swin2SR ×2 · upscaler · v1 · ×2" as the select shows it.</summary>
    public string Label => $"{Name} · {Kind} · {Version} · ×{Scale}{(Remote ? " · on " + Provider : string.Empty)}";

    /// <summary>The active upscalers and restorers of the library, by name.</summary>
    public static IReadOnlyList<RestoreModelOption> Active(TroveLibrary library)
    {
        ArgumentNullException.ThrowIfNull(library);
        var options = new List<RestoreModelOption>();
        foreach (var model in library.Files.ReadModels().Models.Where(m => RestoreService.Kinds.Contains(m.Kind) && m.ActiveVersion is not null))
        {
            var version = model.ActiveVersion!.Version;
            var remote = ModelProviders.IsLocal(model.Provider) ? null : model.Provider;
            var name = string.IsNullOrWhiteSpace(model.Name) ? model.Id : model.Name;
            try
            {
                var p = UpscalerParameters.Parse(remote is null ? model.Parameters : Own(model), model.Id);
                options.Add(new RestoreModelOption(model.Id, name, model.Kind, version, p.Scale, p.TileSize, p.TileOverlap, p.Prompt, remote, null));
            }
            catch (TroveException ex)
            {
                options.Add(new RestoreModelOption(model.Id, name, model.Kind, version, 1, UpscalerParameters.DefaultTileSize, UpscalerParameters.DefaultTileOverlap, null, remote, ex.Message));
            }
        }

        return options.OrderBy(o => o.Name, StringComparer.OrdinalIgnoreCase).ThenBy(o => o.Id, StringComparer.Ordinal).ToList();
    }

    /// <summary>
    /// The run's parameters: only what differs from the model's own values, so that running a model with its defaults
    /// from the page is the same run as <c>trove restore ID --model M</c> (and a second press finds the first result).
    /// </summary>
    public IReadOnlyDictionary<string, string> Overrides(int? tileSize, int? tileOverlap, string? prompt)
    {
        var overrides = new SortedDictionary<string, string>(StringComparer.Ordinal);
        if (!Remote && tileSize is { } size && size != TileSize)
        {
            overrides["tileSize"] = size.ToString(CultureInfo.InvariantCulture);
        }

        if (!Remote && tileOverlap is { } overlap && overlap != TileOverlap)
        {
            overrides["tileOverlap"] = overlap.ToString(CultureInfo.InvariantCulture);
        }

        if (AcceptsPrompt && prompt?.Trim() is { Length: > 0 } text && text != Prompt)
        {
            overrides["prompt"] = text;
        }

        return overrides;
    }

    /// <summary>A remote model's parameters that Trove reads itself (the others are the service's business).</summary>
    private static System.Text.Json.Nodes.JsonObject? Own(ModelDefinition model)
    {
        if (model.Parameters is null)
        {
            return null;
        }

        var own = new System.Text.Json.Nodes.JsonObject();
        foreach (var (key, value) in model.Parameters.Where(p => UpscalerParameters.Fields.Contains(p.Key)))
        {
            own[key] = value?.DeepClone();
        }

        return own;
    }
}

/// <summary>How the pages word restoration runs, results and their lineage.</summary>
public static class RestoreText
{
    /// <summary>"expires in 23 h 59 min" (or that it is due to go to the trash).</summary>
    public static string Expires(DateTimeOffset at, DateTimeOffset now)
    {
        var left = at - now;
        if (left <= TimeSpan.Zero)
        {
            return "expired: it goes to the trash at the next sweep";
        }

        return "expires in " + Span(left);
    }

    /// <summary>"2 h 5 min", "12 min", "less than a minute".</summary>
    public static string Span(TimeSpan span)
    {
        if (span < TimeSpan.FromMinutes(1))
        {
            return "less than a minute";
        }

        var hours = (int)span.TotalHours;
        var minutes = span.Minutes;
        return hours switch
        {
            0 => $"{minutes} min",
            _ when minutes == 0 => $"{hours} h",
            _ => $"{hours} h {minutes} min",
        };
    }

    /// <summary>"0.4 s", "12 s", "3 min 20 s".</summary>
    public static string Seconds(double seconds) => seconds switch
    {
        < 10 => seconds.ToString("0.0", CultureInfo.InvariantCulture) + " s",
        < 60 => Math.Round(seconds).ToString(CultureInfo.InvariantCulture) + " s",
        _ => $"{(int)(seconds / 60)} min {(int)Math.Round(seconds % 60)} s",
    };

    /// <summary>"tileSize=128, prompt=…", or "model defaults" when the run changed nothing.</summary>
    public static string Parameters(IReadOnlyDictionary<string, string> parameters)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        return parameters.Count == 0 ? "model defaults" : string.Join(", ", parameters.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"{p.Key}={p.Value}"));
    }

    /// <summary>"model@version" of a derived media.</summary>
    public static string Reference(DerivationInfo derivation)
    {
        ArgumentNullException.ThrowIfNull(derivation);
        return $"{derivation.Model}@{derivation.Version}";
    }

    public static string When(DateTimeOffset at) => at.ToUniversalTime().ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture);

    /// <summary>What became of a lineage member, in a few words: "kept", "expires in 3 h", "in the trash", "gone".</summary>
    public static string State(LineageMember member, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(member);
        return member.State switch
        {
            LineageStates.Trash => "in the trash",
            LineageStates.Gone => "gone (purged from the trash)",
            _ when member.ExpiresAt is { } at => Expires(at, now),
            _ when member.Derivation is { Kept: true } => "kept",
            _ => "in the library",
        };
    }

    /// <summary>A processing run's result, in a few words.</summary>
    public static string? ResultState(ProcessingRun run, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(run);
        return run.ResultState switch
        {
            ResultStates.Kept => "kept",
            ResultStates.Unkept when run.ExpiresAt is { } at => Expires(at, now),
            ResultStates.Unkept => "not kept",
            ResultStates.Trash => "in the trash",
            ResultStates.Gone => "gone (purged from the trash)",
            _ => null,
        };
    }

    /// <summary>Whether <paramref name="viewer"/> may keep or discard a result (its uploader, i.e. whoever ran it; moderators).</summary>
    public static bool CanDecide(Principal viewer, MediaSidecar result) => Permissions.CanEditMedia(viewer, result);
}
