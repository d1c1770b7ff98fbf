using System.Globalization;
using System.Text.Json;
using Microsoft.AspNetCore.Mvc;
using Trove.Application;
using Trove.Application.Accounts;
using Trove.Application.Export;
using Trove.Application.Jobs;

namespace Trove.Server.Pages;

/// <summary>
/// Background jobs the signed-in account may see (<see cref="JobBoard"/>: their own; admins everyone's), with progress,
/// outcome, export downloads and cancel; the list polls itself while any job is unfinished.
/// </summary>
public sealed class JobsModel(TroveLibrary library) : ManagePageModel
{
    public const string ListFragment = "_ManageJobs";
    public const int Limit = 100;

    public IReadOnlyList<JobRecord> Jobs { get; private set; } = [];

    public bool SeesAll => Me.Role >= Role.Admin;

    public bool AnyActive => Jobs.Any(j => !JobStatus.IsFinished(j.Status));

    public Task<IActionResult> OnGetAsync() => SignedIn ? PageAsync() : Task.FromResult<IActionResult>(Challenge());

    /// <summary>The list alone, polled every 2 s while a job is queued or running.</summary>
    public Task<IActionResult> OnGetListAsync() => SignedIn ? FragmentAsync(ListFragment) : Task.FromResult<IActionResult>(Challenge());

    public async Task<IActionResult> OnPostCancelAsync(string id)
    {
        if (!SignedIn)
        {
            return Challenge();
        }

        await ChangeAsync(true, "cancel jobs", async ct =>
        {
            var job = await new JobBoard(library).CancelAsync(Me, id ?? string.Empty, ct).ConfigureAwait(false);
            return job.Status == JobStatus.Cancelled ? $"Cancelled {job.Kind} job {Short(job.Id)}." : $"Asked {job.Kind} job {Short(job.Id)} to stop.";
        }).ConfigureAwait(false);
        return await RespondAsync(ListFragment).ConfigureAwait(false);
    }

    public static bool Downloadable(JobRecord job) => job.Kind == ExportJobs.Kind && job.Status == JobStatus.Succeeded;

    public static int? Percent(JobRecord job) =>
        job.Total is > 0 and var total ? (int)Math.Clamp(job.Done * 100 / total, 0, 100) : JobStatus.IsFinished(job.Status) && job.Status == JobStatus.Succeeded ? 100 : null;

    /// <summary>The top-level simple values of a job's JSON (result or parameters), e.g. "media: 12 · bytes: 3 MB" (unset ones left out).</summary>
    public static IReadOnlyList<KeyValuePair<string, string>> Summary(string? json)
    {
        if (string.IsNullOrWhiteSpace(json))
        {
            return [];
        }

        try
        {
            using var doc = JsonDocument.Parse(json);
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
            {
                return [new("value", doc.RootElement.ToString())];
            }

            var list = new List<KeyValuePair<string, string>>();
            foreach (var p in doc.RootElement.EnumerateObject())
            {
                var value = p.Value.ValueKind switch
                {
                    JsonValueKind.String => p.Value.GetString() ?? string.Empty,
                    JsonValueKind.Number when p.Name.Contains("bytes", StringComparison.OrdinalIgnoreCase) && p.Value.TryGetInt64(out var b) => Bytes(b),
                    JsonValueKind.Number => p.Value.GetRawText(),
                    JsonValueKind.True => "yes",
                    JsonValueKind.Array when p.Value.GetArrayLength() > 0 => p.Value.GetArrayLength().ToString(CultureInfo.InvariantCulture) + " item" + (p.Value.GetArrayLength() == 1 ? string.Empty : "s"),
                    _ => null, // false, null, empty lists and nested objects say nothing worth a line
                };
                if (value is not null && value.Length > 0)
                {
                    list.Add(new(p.Name, value.Length > 200 ? value[..200] + "…" : value));
                }
            }

            return list;
        }
        catch (JsonException)
        {
            return [new("value", json.Length > 200 ? json[..200] + "…" : json)];
        }
    }

    protected override async Task LoadAsync(CancellationToken ct) =>
        Jobs = await new JobBoard(library).ListAsync(Me, null, Limit, ct).ConfigureAwait(false);
}
