using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Trove.Application.Accounts;
using Trove.Server.Api;
using Trove.Server.Auth;

namespace Trove.Server.Pages;

public sealed class LoginModel(AccountService accounts, LoginThrottle throttle) : PageModel
{
    [BindProperty]
    public string? Name { get; set; }

    [BindProperty]
    public string? Password { get; set; }

    [BindProperty]
    public bool Remember { get; set; }

    [BindProperty(SupportsGet = true)]
    public string? ReturnUrl { get; set; }

    public string? Error { get; private set; }

    public async Task<IActionResult> OnPostAsync()
    {
        if (!throttle.TryAttempt(HttpContext, out _))
        {
            Error = "Too many sign-in attempts from this address. Wait a minute and try again.";
            Response.StatusCode = 429;
            return Page();
        }

        var user = await AccountEndpoints.SignInAsync(HttpContext, accounts, Name ?? string.Empty, Password ?? string.Empty, Remember).ConfigureAwait(false);
        if (user is null)
        {
            Error = "Wrong user name or password.";
            Response.StatusCode = 401;
            return Page();
        }

        return LocalRedirect(Url.IsLocalUrl(ReturnUrl) ? ReturnUrl! : "/");
    }
}
