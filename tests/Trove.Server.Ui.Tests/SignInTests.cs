using Microsoft.Playwright;

namespace Trove.Server.Ui.Tests;

[Collection(BrowserCollection.Name)]
public sealed class SignInTests(BrowserFixture browser) : UiTest(browser)
{
    [Fact]
    public async Task Wrong_password_shows_an_error_and_right_one_signs_in()
    {
        await Page.GotoAsync("/");
        Assert.Contains("/login", Page.Url, StringComparison.Ordinal);
        await Page.GetByLabel("User name").FillAsync("alice");
        await Page.GetByLabel("Password").FillAsync("wrong password");
        await Page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await Assertions.Expect(Page.GetByRole(AriaRole.Alert)).ToContainTextAsync("Wrong user name or password");
        await ScreenshotAsync("sign-in");

        await SignInAsync("alice");
        await Assertions.Expect(Page.Locator(".account")).ToContainTextAsync("alice");
    }
}
