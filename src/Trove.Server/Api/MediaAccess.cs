using Microsoft.AspNetCore.Http;
using Trove.Application;
using Trove.Application.Accounts;
using Trove.Server.Auth;

namespace Trove.Server.Api;

/// <summary>Ownership checks for changes to one media (members may change their own uploads; moderators any).</summary>
public static class MediaAccess
{
    /// <summary>Resolves the id (full or prefix) and throws "forbidden" unless the request's account may edit that media.</summary>
    public static async Task<string> EnsureCanEditAsync(HttpContext context, MediaService media, string idOrPrefix, CancellationToken ct)
    {
        var view = await media.ShowAsync(idOrPrefix, ct).ConfigureAwait(false);
        if (!Permissions.CanEditMedia(context.Principal(), view.Sidecar))
        {
            throw Permissions.Forbidden($"change media {view.Sidecar.Id[..12]} (members may change only their own uploads)");
        }

        return view.Sidecar.Id;
    }
}
