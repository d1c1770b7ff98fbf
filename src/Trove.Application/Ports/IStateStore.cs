namespace Trove.Application.Ports;

/// <summary>
/// State that is not derivable from the library files (audit log now; accounts, API tokens and jobs later).
/// It lives in its own database so that deleting the index never loses it. Back it up.
/// </summary>
public interface IStateStore : IAsyncDisposable
{
    Task AppendAuditAsync(IReadOnlyList<AuditEntry> entries, CancellationToken ct);

    Task<IReadOnlyList<AuditEntry>> ReadAuditAsync(int limit, CancellationToken ct);
}

public interface IStateStoreFactory
{
    Task<IStateStore> OpenAsync(Trove.Library.LibraryLayout layout, CancellationToken ct);
}

public sealed record AuditEntry(DateTimeOffset At, string Actor, string Action, string Target, string? Detail);
