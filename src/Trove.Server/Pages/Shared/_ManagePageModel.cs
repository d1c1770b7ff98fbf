using System.Globalization;
using System.Security.Claims;
using System.Text.Json;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.Extensions.DependencyInjection;
using Trove.Application.Accounts;
using Trove.Domain;
using Trove.Server.Auth;

namespace Trove.Server.Pages;

/// <summary>
/// What the management pages (collections, tags, duplicates, users, account, jobs) share: who is signed in; changes
/// whose outcome is shown inline (a <see cref="TroveException"/> becomes a message next to the form, never a 500);
/// and answers that are an htmx fragment for htmx requests and the whole page otherwise, so every form also works
/// without JavaScript. The rules themselves stay in the application services and <see cref="Permissions"/>.
/// </summary>
public abstract class ManagePageModel : PageModel
{
    /// <summary>Raised (HX-Trigger) with <c>{message, kind}</c>; manage.js shows it with <c>Trove.toast</c>.</summary>
    public const string ToastEvent = "trove-toast";

    /// <summary>Raised with <c>{token}</c> when the session was renewed: manage.js puts the new antiforgery token in the page.</summary>
    public const string CsrfEvent = "trove-csrf";

    private readonly Dictionary<string, object> _events = new(StringComparer.Ordinal);
    private int _errorStatus = 422;

    /// <summary>What the last change did (shown inline, and as a toast for htmx requests).</summary>
    public string? Message { get; private set; }

    /// <summary>Why the last change (or loading the page) failed, in the service's own words.</summary>
    public string? Error { get; private set; }

    /// <summary>What to do about <see cref="Error"/>, when the service said.</summary>
    public string? Hint { get; private set; }

    /// <summary>The fragment (partial name) the status belongs to; null for the top of the page.</summary>
    public string? StatusSection { get; private set; }

    public Principal Me => HttpContext.Principal();

    public bool SignedIn => Policies.IsSignedIn(User);

    public bool IsHtmx => Request.Headers.ContainsKey("HX-Request");

    protected CancellationToken Aborted => HttpContext.RequestAborted;

    /// <summary>Whether the status (message or error) is to be shown in <paramref name="section"/>.</summary>
    public bool ShowsStatus(string? section) => (Message is not null || Error is not null) && string.Equals(section, StatusSection, StringComparison.Ordinal);

    /// <summary>Loads what the page shows. Called before the whole page is rendered and before fragments that use the page model.</summary>
    protected virtual Task LoadAsync(CancellationToken ct) => Task.CompletedTask;

    /// <summary>
    /// Runs a change when <paramref name="allowed"/> (else reports that the role does not allow <paramref name="what"/>).
    /// Its returned text becomes <see cref="Message"/>; a <see cref="TroveException"/> becomes <see cref="Error"/>.
    /// </summary>
    protected async Task<bool> ChangeAsync(bool allowed, string what, Func<CancellationToken, Task<string>> change)
    {
        ArgumentNullException.ThrowIfNull(change);
        if (!allowed)
        {
            Fail(Permissions.Forbidden(what));
            return false;
        }

        try
        {
            Message = await change(Aborted).ConfigureAwait(false);
            return true;
        }
        catch (TroveException ex)
        {
            Fail(ex);
            return false;
        }
    }

    protected void Fail(TroveException ex)
    {
        ArgumentNullException.ThrowIfNull(ex);
        Message = null;
        Error = ex.Message;
        Hint = ex.Hint;
        _errorStatus = Problems.StatusOf(ex);
    }

    /// <summary>An input problem found by the page itself (e.g. two new passwords that differ).</summary>
    protected void Fail(string message) => Fail(new TroveUsageException("bad-input", message));

    /// <summary>Asks the page to fire a client-side event after this response (HX-Trigger), e.g. to refresh another fragment.</summary>
    protected void Raise(string eventName) => _events[eventName] = true;

    /// <summary>
    /// The answer to a change. htmx: the fragment <paramref name="fragment"/> (with <paramref name="model"/>, or this
    /// page model after loading) and a toast. Otherwise: the whole page, with the status shown in that fragment and an
    /// error status code when the change failed.
    /// </summary>
    protected async Task<IActionResult> RespondAsync(string fragment, object? model = null)
    {
        StatusSection = fragment;
        if (!IsHtmx || model is null)
        {
            await SafeLoadAsync().ConfigureAwait(false);
        }

        if (IsHtmx)
        {
            WriteEvents();
            return Partial(fragment, model ?? this);
        }

        if (Error is not null)
        {
            Response.StatusCode = _errorStatus;
        }

        return Page();
    }

    /// <summary>A fragment for an htmx GET (live filter, polling) without a change.</summary>
    protected async Task<IActionResult> FragmentAsync(string fragment)
    {
        await SafeLoadAsync().ConfigureAwait(false);
        StatusSection = Error is null ? null : fragment;
        return Partial(fragment, this);
    }

    /// <summary>The whole page for a GET; a load failure is shown at its top.</summary>
    protected async Task<IActionResult> PageAsync()
    {
        await SafeLoadAsync().ConfigureAwait(false);
        if (Error is not null)
        {
            Response.StatusCode = _errorStatus;
        }

        return Page();
    }

    /// <summary>An empty htmx answer (the target disappears) that still carries the toast.</summary>
    protected ContentResult Removed()
    {
        WriteEvents();
        return Content(string.Empty, "text/html");
    }

    /// <summary>After the signed-in account's password or role changed (its stamp too), keeps this browser signed in.</summary>
    protected async Task RefreshSessionAsync(UserAccount updated)
    {
        ArgumentNullException.ThrowIfNull(updated);
        if (updated.Id != Me.UserId || updated.Disabled)
        {
            return;
        }

        var current = await HttpContext.AuthenticateAsync(Authentication.CookieScheme).ConfigureAwait(false);
        var properties = current.Properties ?? new AuthenticationProperties();
        var principal = new ClaimsPrincipal(Policies.Identity(updated, Authentication.CookieScheme));
        await HttpContext.SignInAsync(Authentication.CookieScheme, principal, properties).ConfigureAwait(false);
        HttpContext.User = principal;

        // Antiforgery request tokens are bound to the identity (its stamp included): the page needs a fresh one.
        var tokens = HttpContext.RequestServices.GetRequiredService<IAntiforgery>().GetAndStoreTokens(HttpContext);
        if (tokens.RequestToken is { } token)
        {
            _events[CsrfEvent] = new Dictionary<string, string> { ["token"] = token };
        }
    }

    public static string Bytes(long size) => size switch
    {
        < 1024 => $"{size} B",
        < 1024 * 1024 => (size / 1024d).ToString("0.#", CultureInfo.InvariantCulture) + " KB",
        < 1024L * 1024 * 1024 => (size / (1024d * 1024)).ToString("0.#", CultureInfo.InvariantCulture) + " MB",
        _ => (size / (1024d * 1024 * 1024)).ToString("0.##", CultureInfo.InvariantCulture) + " GB",
    };

    public static string When(DateTimeOffset? at) => at is { } t ? t.ToUniversalTime().ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture) : "never";

    public static string Short(string id) => id.Length > 12 ? id[..12] : id;

    private async Task SafeLoadAsync()
    {
        try
        {
            await LoadAsync(Aborted).ConfigureAwait(false);
        }
        catch (TroveException ex)
        {
            Fail(ex);
            StatusSection = null;
        }
    }

    private void WriteEvents()
    {
        if (Error is not null)
        {
            _events[ToastEvent] = new Dictionary<string, string> { ["message"] = Error, ["kind"] = "error" };
        }
        else if (Message is not null)
        {
            _events[ToastEvent] = new Dictionary<string, string> { ["message"] = Message };
        }

        if (_events.Count > 0)
        {
            // The default encoder escapes everything outside ASCII, as a header value must be.
            Response.Headers["HX-Trigger"] = JsonSerializer.Serialize(_events);
        }
    }
}

/// <summary>A secret to show once (an API token just issued) and what it is.</summary>
public sealed record ManageSecret(string Secret, string What);
