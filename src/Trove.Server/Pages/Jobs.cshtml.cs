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

    public static int? Percent(JobRecord job) => Api.JobResponse.ProgressOf(job);

    /// <summary>
    /// What the persistent queue knows of a job beyond its status, as short labelled facts: the attempt (of how many),
    /// when a queued job may start (delayed at enqueue, or the retry after a failed attempt), whether a running job has
    /// been asked to stop, the worker running it, when it started and finished. Keys: attempts, run-after, retry-at,
    /// cancel-requested, worker, started, finished.
    /// </summary>
    public static IReadOnlyList<KeyValuePair<string, string>> QueueFacts(JobRecord job)
    {
        ArgumentNullException.ThrowIfNull(job);
        var facts = new List<KeyValuePair<string, string>>();
        if (job.Attempts > 0 || job.MaxAttempts > 1)
        {
            facts.Add(new("attempts", string.Create(CultureInfo.InvariantCulture, $"attempt {job.Attempts} of {job.MaxAttempts}")));
        }

        if (job.Status == JobStatus.Queued && job.AvailableAt > job.CreatedAt)
        {
            facts.Add(job.Attempts > 0
                ? new("retry-at", "retry at " + Precise(job.AvailableAt))
                : new("run-after", "runs after " + Precise(job.AvailableAt)));
        }

        if (job.CancelRequested && !JobStatus.IsFinished(job.Status))
        {
            facts.Add(new("cancel-requested", "cancel requested: stopping"));
        }

        if (job.Status == JobStatus.Running && job.LeaseOwner is { Length: > 0 } worker)
        {
            facts.Add(new("worker", "on worker " + worker));
        }

        if (job.StartedAt is { } started)
        {
            facts.Add(new("started", "started " + When(started)));
        }

        if (job.FinishedAt is { } finished)
        {
            facts.Add(new("finished", "finished " + When(finished)));
        }

        return facts;
    }

    /// <summary>A time to the second (a queued job's delay is often well under a minute).</summary>
    public static string Precise(DateTimeOffset at) => at.ToUniversalTime().ToString("yyyy-MM-dd HH:mm:ss 'UTC'", CultureInfo.InvariantCulture);

    /// <summary>
    /// A result that explains itself (a suggest job's): its <c>summary</c> sentence, its <c>hint</c> (what to do when
    /// nothing came of it) and how many items <c>failed</c>; null when the result has no <c>summary</c> (then the page
    /// shows <see cref="Summary"/>).
    /// </summary>
    public static JobOutcome? Outcome(string? json)
    {
        if (string.IsNullOrWhiteSpace(json))
        {
            return null;
        }

        try
        {
            using var doc = JsonDocument.Parse(json);
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("summary", out var summary) || summary.ValueKind != JsonValueKind.String)
            {
                return null;
            }

            var hint = root.TryGetProperty("hint", out var h) && h.ValueKind == JsonValueKind.String ? h.GetString() : null;
            var failed = root.TryGetProperty("failed", out var f) && f.ValueKind == JsonValueKind.Array ? f.GetArrayLength() : 0;
            return new JobOutcome(summary.GetString() ?? string.Empty, hint, failed);
        }
        catch (JsonException)
        {
            return null;
        }
    }

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

/// <summary>A job result in words: what happened, what to do about it, and how many items failed.</summary>
public sealed record JobOutcome(string Summary, string? Hint, int Failed);
