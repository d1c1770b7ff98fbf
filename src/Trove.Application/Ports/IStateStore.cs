namespace Trove.Application.Ports;

/// <summary>
/// State that is not derivable from the library files: the audit log, the import journal, accounts, API tokens and jobs.
/// It lives in its own database so that deleting the index never loses it. Back it up.
/// </summary>
public interface IStateStore : IAsyncDisposable
{
    /// <summary>Users and API tokens.</summary>
    Accounts.IAccountStore Accounts { get; }

    /// <summary>Background jobs and their outcome.</summary>
    Jobs.IJobStore Jobs { get; }

    Task AppendAuditAsync(IReadOnlyList<AuditEntry> entries, CancellationToken ct);

    Task<IReadOnlyList<AuditEntry>> ReadAuditAsync(int limit, CancellationToken ct);

    /// <summary>
    /// What an earlier import made of a source file with this path, size and modification time (null if unknown),
    /// so that an interrupted or repeated import does not hash and decode it again.
    /// </summary>
    Task<string?> FindImportedAsync(string sourcePath, long size, long mtimeTicks, CancellationToken ct);

    /// <summary>Records source files that were imported (or found to be duplicates) as the given media.</summary>
    Task RecordImportedAsync(IReadOnlyList<ImportJournalEntry> entries, CancellationToken ct);
}

public sealed record ImportJournalEntry(string SourcePath, long Size, long MtimeTicks, string MediaId);

public interface IStateStoreFactory
{
    Task<IStateStore> OpenAsync(Trove.Library.LibraryLayout layout, CancellationToken ct);
}

public sealed record AuditEntry(DateTimeOffset At, string Actor, string Action, string Target, string? Detail);
