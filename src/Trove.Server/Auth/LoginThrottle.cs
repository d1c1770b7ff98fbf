using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Http;

namespace Trove.Server.Auth;

/// <summary>
/// Sign-in attempts per client address (<see cref="ServerSettings.LoginPerMinute"/> a minute), shared by the sign-in
/// page and <c>POST /api/auth/login</c>, so guessing passwords is slow whichever door is used.
/// </summary>
public sealed class LoginThrottle(ServerSettings settings) : IDisposable
{
    private readonly PartitionedRateLimiter<string> _limiter = PartitionedRateLimiter.Create<string, string>(address =>
        RateLimitPartition.GetFixedWindowLimiter(address, _ => new FixedWindowRateLimiterOptions
        {
            PermitLimit = Math.Max(1, settings.LoginPerMinute),
            Window = TimeSpan.FromMinutes(1),
            QueueLimit = 0,
        }));

    /// <summary>True when this attempt may go ahead; false means answer 429.</summary>
    public bool TryAttempt(HttpContext context, out TimeSpan retryAfter)
    {
        using var lease = _limiter.AttemptAcquire(context.Connection.RemoteIpAddress?.ToString() ?? "unknown");
        retryAfter = lease.TryGetMetadata(MetadataName.RetryAfter, out var retry) ? retry : TimeSpan.FromMinutes(1);
        return lease.IsAcquired;
    }

    public void Dispose() => _limiter.Dispose();
}
