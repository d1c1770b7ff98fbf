using Microsoft.AspNetCore.Mvc;
using Trove.Application;
using Trove.Application.Accounts;
using Trove.Application.Jobs;
using Trove.Application.Restoration;

namespace Trove.Server.Pages;

/// <summary>
/// The processing history (<see cref="ProcessingService.HistoryAsync"/>): the signed-in account's upscaler and
/// restorer runs, newest first; moderators and admins may show everyone's. Each run: when, the media, model@version and
/// parameters, its status (with progress while it runs), the result and what became of it, the error of a failed run,
/// and the timings. Unkept results can be kept or discarded here. The list polls itself while a run is unfinished.
/// </summary>
public sealed class HistoryModel(TroveLibrary library) : ManagePageModel
{
    public const string ListFragment = "_HistoryList";
    public const int Limit = 200;

    /// <summary>Everyone's runs (moderators and admins only; ignored for others).</summary>
    [BindProperty(SupportsGet = true)]
    public bool All { get; set; }

    public IReadOnlyList<ProcessingRun> Runs { get; private set; } = [];

    public bool CanSeeEveryone => Me.Role >= Role.Moderator;

    public bool SeesEveryone => All && CanSeeEveryone;

    public bool AnyActive => Runs.Any(r => !JobStatus.IsFinished(r.Status));

    public DateTimeOffset Now { get; private set; }

    /// <summary>Who may keep or discard each result (by result id): whoever ran it, moderators.</summary>
    public IReadOnlySet<string> Decidable { get; private set; } = new HashSet<string>();

    /// <summary>Where each run's media is now (library, trash, gone), by id.</summary>
    public IReadOnlyDictionary<string, string> MediaStates { get; private set; } = new Dictionary<string, string>();

    /// <summary>Whether a media's thumbnail can be shown: in the library, or in the trash for moderators.</summary>
    public bool Visible(string state) => state == LineageStates.Library || (state == LineageStates.Trash && MediaService.CanSeeTrash(Me));

    /// <summary>The list's own address (polling, forms), keeping the everyone toggle.</summary>
    public string Here(string? handler = null)
    {
        var query = new List<string>();
        if (handler is not null)
        {
            query.Add("handler=" + handler);
        }

        if (SeesEveryone)
        {
            query.Add("all=true");
        }

        return "/history" + (query.Count == 0 ? string.Empty : "?" + string.Join('&', query));
    }

    public Task<IActionResult> OnGetAsync() => SignedIn ? PageAsync() : Task.FromResult<IActionResult>(Challenge());

    public Task<IActionResult> OnGetListAsync() => SignedIn ? FragmentAsync(ListFragment) : Task.FromResult<IActionResult>(Challenge());

    public Task<IActionResult> OnPostKeepAsync(string? result) => DecideAsync(result, keep: true);

    public Task<IActionResult> OnPostDiscardAsync(string? result) => DecideAsync(result, keep: false);

    private async Task<IActionResult> DecideAsync(string? result, bool keep)
    {
        if (!SignedIn)
        {
            return Challenge();
        }

        var stored = result is { Length: > 0 } ? library.Files.TryReadSidecar(result) : null;
        await ChangeAsync(stored is not null && RestoreText.CanDecide(Me, stored.Sidecar), keep ? "keep this result" : "discard this result", async ct =>
        {
            var id = stored!.Sidecar.Id;
            if (keep)
            {
                await new ProcessingService(library).KeepAsync(id, ct).ConfigureAwait(false);
                return $"Kept {Short(id)}.";
            }

            return await new ProcessingService(library).DiscardAsync(id, ct).ConfigureAwait(false)
                ? $"Discarded {Short(id)}: it is in the trash."
                : $"{Short(id)} was already in the trash.";
        }).ConfigureAwait(false);
        return await RespondAsync(ListFragment).ConfigureAwait(false);
    }

    protected override async Task LoadAsync(CancellationToken ct)
    {
        Now = library.Time.GetUtcNow();
        Runs = await new ProcessingService(library).HistoryAsync(SeesEveryone ? null : Me.Name, Limit, ct).ConfigureAwait(false);
        var decidable = new HashSet<string>(StringComparer.Ordinal);
        foreach (var run in Runs)
        {
            if (run.Result is { } id && run.ResultState == ResultStates.Unkept && library.Files.TryReadSidecar(id) is { } stored && RestoreText.CanDecide(Me, stored.Sidecar))
            {
                decidable.Add(id);
            }
        }

        Decidable = decidable;
        MediaStates = Runs.Select(r => r.Media).Where(m => m.Length > 0).Distinct(StringComparer.Ordinal).ToDictionary(
            m => m,
            m => library.Files.TryReadSidecar(m) switch
            {
                null => LineageStates.Gone,
                { InTrash: true } => LineageStates.Trash,
                _ => LineageStates.Library,
            },
            StringComparer.Ordinal);
    }

    /// <summary>Percent of the tiles done (null when unknown).</summary>
    public static int? Percent(ProcessingRun run)
    {
        ArgumentNullException.ThrowIfNull(run);
        return run.Total is > 0 and var total ? (int)Math.Clamp(run.Done * 100 / total, 0, 100) : null;
    }

    /// <summary>Run time in seconds: the restore's own figure, else from the job's start and end.</summary>
    public static double? RunSeconds(ProcessingRun run)
    {
        ArgumentNullException.ThrowIfNull(run);
        return run.Seconds is { } s && !run.Existing ? s
            : run is { StartedAt: { } started, FinishedAt: { } finished } ? Math.Max(0, (finished - started).TotalSeconds)
            : null;
    }
}
