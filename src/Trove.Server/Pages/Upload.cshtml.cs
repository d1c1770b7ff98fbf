using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Trove.Application;
using Trove.Application.Ports;
using Trove.Server.Auth;

namespace Trove.Server.Pages;

/// <summary>
/// Upload: drop files (or pick them), optionally with tags and a collection. The page's script sends one request per file
/// to <c>POST /api/media</c> (three at a time) so each file has its own progress bar and result.
/// </summary>
[Authorize(Policy = Policies.Member)]
public sealed class UploadModel(CollectionService collections) : PageModel
{
    public IReadOnlyList<IndexedCollection> Collections { get; private set; } = [];

    public async Task OnGetAsync(CancellationToken ct)
    {
        Collections = (await collections.ListAsync(ct).ConfigureAwait(false))
            .OrderBy(c => c.Name, StringComparer.OrdinalIgnoreCase)
            .ToList();
    }
}
