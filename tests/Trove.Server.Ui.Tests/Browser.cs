using Microsoft.Playwright;
using Trove.Server.Tests;

namespace Trove.Server.Ui.Tests;

/// <summary>
/// One headless Debian Chromium for the test run (never a downloaded browser), and a real Trove server per test
/// class. Screenshots go to artifacts/screenshots at the repository root.
/// </summary>
public sealed class BrowserFixture : IAsyncLifetime
{
    public const string ChromiumPath = "/usr/bin/chromium";

    private IPlaywright? _playwright;

    public IBrowser Browser { get; private set; } = null!;

    public static string ScreenshotDir
    {
        get
        {
            var dir = AppContext.BaseDirectory;
            while (dir is not null && !File.Exists(Path.Combine(dir, "Trove.slnx")))
            {
                dir = Path.GetDirectoryName(dir);
            }

            var path = Path.Combine(dir ?? Path.GetTempPath(), "artifacts", "screenshots");
            Directory.CreateDirectory(path);
            return path;
        }
    }

    public async Task InitializeAsync()
    {
        Assert.True(File.Exists(ChromiumPath), $"UI tests need Debian's chromium at {ChromiumPath}: apt-get install chromium (make test installs it).");
        _playwright = await Playwright.CreateAsync();
        Browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ChromiumPath,
            Headless = true,
            Args = ["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"],
        });
    }

    public async Task DisposeAsync()
    {
        if (Browser is not null)
        {
            await Browser.DisposeAsync();
        }

        _playwright?.Dispose();
    }
}

[CollectionDefinition(Name)]
public sealed class BrowserCollection : ICollectionFixture<BrowserFixture>
{
    public const string Name = "browser";
}

/// <summary>Base for UI tests: a fresh server and a browser page signed in as someone.</summary>
public abstract class UiTest(BrowserFixture browser) : IAsyncLifetime
{
    protected TestServer Server { get; private set; } = null!;

    protected IBrowserContext Context { get; private set; } = null!;

    protected IPage Page { get; private set; } = null!;

    public virtual async Task InitializeAsync()
    {
        Server = await StartServerAsync();
        Context = await browser.Browser.NewContextAsync(new BrowserNewContextOptions { BaseURL = Server.Address.ToString().TrimEnd('/'), ViewportSize = new ViewportSize { Width = 1280, Height = 860 } });
        Context.SetDefaultTimeout(15_000);
        Page = await Context.NewPageAsync();
    }

    /// <summary>The server the test drives (a test class may give it an inference engine or settings).</summary>
    protected virtual Task<TestServer> StartServerAsync() => TestServer.StartAsync();

    public virtual async Task DisposeAsync()
    {
        await Context.DisposeAsync();
        await Server.DisposeAsync();
    }

    protected async Task SignInAsync(string user)
    {
        await Page.GotoAsync("/login");
        await Page.GetByLabel("User name").FillAsync(user);
        await Page.GetByLabel("Password").FillAsync(TestServer.Password);
        await Page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        // Wait for the redirect itself and the document, not the page's "load" event: that waits for every
        // thumbnail, which on a busy 2-core machine can take longer than the timeout while jobs still run.
        await Page.WaitForURLAsync(url => !url.Contains("/login", StringComparison.Ordinal), new() { WaitUntil = WaitUntilState.Commit });
        await Page.WaitForLoadStateAsync(LoadState.DOMContentLoaded);
    }

    /// <summary>Saves what the page shows once its images have arrived (artifacts/screenshots/NAME.png).</summary>
    protected async Task ScreenshotAsync(string name)
    {
        await Page.WaitForLoadStateAsync(LoadState.NetworkIdle);
        await Page.WaitForFunctionAsync("() => [...document.images].filter(i => i.getBoundingClientRect().top < innerHeight).every(i => i.complete)");
        await Page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(BrowserFixture.ScreenshotDir, name + ".png"), FullPage = false });
    }
}
