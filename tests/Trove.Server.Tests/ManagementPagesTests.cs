using System.Net;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Trove.Application;
using Trove.Application.Accounts;
using Trove.Application.Jobs;
using Trove.Testing;

using static Trove.Server.Tests.PageRequests;

namespace Trove.Server.Tests;

/// <summary>
/// The management pages (collections, tags, duplicates, users, account, jobs) over HTTP with cookie sessions: who may
/// open them, that their forms need the antiforgery token, that changes made through the forms reach the library, and
/// that refusals and service errors are shown on the page (never a 500). htmx requests get fragments and a toast.
/// </summary>
public sealed partial class ManagementPagesTests : IAsyncLifetime
{
    private TestServer _server = null!;

    public async Task InitializeAsync() => _server = await TestServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Theory]
    [InlineData("vic", "/collections")]
    [InlineData("vic", "/tags")]
    [InlineData("vic", "/jobs")]
    [InlineData("vic", "/account")]
    [InlineData("alice", "/collections")]
    [InlineData("alice", "/tags")]
    [InlineData("mod", "/duplicates")]
    [InlineData("admin", "/users")]
    [InlineData("admin", "/duplicates")]
    public async Task Each_page_opens_for_a_role_allowed_to_see_it(string user, string path)
    {
        var session = await _server.SessionAsync(user);
        var html = await PageAsync(session, path);
        Assert.Contains("<h1", html, StringComparison.Ordinal);
        Assert.Contains("manage.js", html, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("alice", "/users")]
    [InlineData("mod", "/users")]
    [InlineData("alice", "/duplicates")]
    [InlineData("vic", "/duplicates")]
    public async Task Pages_above_the_role_send_the_browser_to_the_denied_page(string user, string path)
    {
        var session = await _server.SessionAsync(user);
        using var response = await session.GetAsync(path);
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal("/denied", new Uri(_server.Address, response.Headers.Location!).AbsolutePath);
    }

    [Fact]
    public async Task Signed_out_visitors_are_sent_to_sign_in()
    {
        using var response = await _server.Anonymous().GetAsync("/collections");
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal("/login", new Uri(_server.Address, response.Headers.Location!).AbsolutePath);
    }

    [Fact]
    public async Task A_page_form_post_without_the_antiforgery_token_is_refused_with_400()
    {
        var session = await _server.SessionAsync("alice", sendCsrf: false);
        using var response = await session.PostAsync("/collections?handler=Create", Form(("NewName", "sneaky")));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Null(await new CollectionService(_server.Library).FindAsync("sneaky", CancellationToken.None));
    }

    [Fact]
    public async Task Creating_a_collection_through_the_page_form_lists_it()
    {
        var session = await _server.SessionAsync("alice", sendCsrf: false);
        var token = TokenOf(await PageAsync(session, "/collections"));

        using var created = await session.PostAsync("/collections?handler=Create", Form(("__RequestVerificationToken", token), ("NewName", "Summer trip"), ("NewDescription", "Beach and hills")));
        var answer = await created.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.OK, created.StatusCode);
        Assert.Contains("Created collection 'Summer trip'.", WebUtility.HtmlDecode(answer), StringComparison.Ordinal);

        var listing = await PageAsync(session, "/collections");
        Assert.Contains("href=\"/collections/Summer%20trip\"", listing, StringComparison.Ordinal);
        Assert.Contains("Beach and hills", listing, StringComparison.Ordinal);
        Assert.NotNull(await new CollectionService(_server.Library).FindAsync("Summer trip", CancellationToken.None));
    }

    [Fact]
    public async Task A_viewer_sees_no_create_form_and_a_forged_post_is_refused_on_the_page()
    {
        var session = await _server.SessionAsync("vic", sendCsrf: false);
        var page = await PageAsync(session, "/collections");
        Assert.DoesNotContain("data-testid=\"create-collection\"", page, StringComparison.Ordinal);

        using var refused = await session.PostAsync("/collections?handler=Create", Form(("__RequestVerificationToken", TokenOf(page)), ("NewName", "mine")));
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        Assert.Contains("You are not allowed to create collections.", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Null(await new CollectionService(_server.Library).FindAsync("mine", CancellationToken.None));
    }

    [Fact]
    public async Task Service_errors_are_shown_inline_for_forms_and_as_fragment_and_toast_for_htmx()
    {
        await new CollectionService(_server.Library).CreateAsync("Taken", null, CancellationToken.None);
        var session = await _server.SessionAsync("alice");

        using var plain = await session.PostAsync("/collections?handler=Create", Form(("NewName", "Taken")));
        Assert.Equal(HttpStatusCode.Conflict, plain.StatusCode);
        var html = WebUtility.HtmlDecode(await plain.Content.ReadAsStringAsync());
        Assert.Contains("A collection named 'Taken' already exists.", html, StringComparison.Ordinal);
        Assert.Contains("value=\"Taken\"", html, StringComparison.Ordinal); // the form keeps what was typed

        using var htmx = await HtmxPostAsync(session, "/collections?handler=Create", ("NewName", "Taken"));
        Assert.Equal(HttpStatusCode.OK, htmx.StatusCode);
        var fragment = await htmx.Content.ReadAsStringAsync();
        Assert.StartsWith("<section id=\"collections\"", fragment.TrimStart(), StringComparison.Ordinal);
        Assert.DoesNotContain("<html", fragment, StringComparison.Ordinal);
        Assert.Contains("role=\"alert\"", fragment, StringComparison.Ordinal);
        Assert.Equal("A collection named 'Taken' already exists.", ToastOf(htmx));
    }

    [Fact]
    public async Task Collection_page_shows_members_in_order_and_moderators_reorder_remove_and_delete()
    {
        var ids = await ImportAsync("alice", 3);
        var collections = new CollectionService(_server.Library);
        await collections.CreateAsync("Set A", "three photos", CancellationToken.None);
        await collections.AddAsync("Set A", ids, CancellationToken.None);

        // A member sees the grid in order, with covers on the index, but no moderator controls.
        var alice = await _server.SessionAsync("alice");
        var memberView = await PageAsync(alice, "/collections/Set%20A");
        Assert.Equal(ids, MemberIds(memberView));
        Assert.DoesNotContain("data-testid=\"earlier\"", memberView, StringComparison.Ordinal);
        Assert.Contains($"/api/media/{ids[0]}/thumbnail?size=256", await PageAsync(alice, "/collections"), StringComparison.Ordinal);
        using (var refused = await HtmxPostAsync(alice, "/collections/Set%20A?handler=Remove", ("id", ids[0])))
        {
            Assert.Contains("You are not allowed to remove media from collections.", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        var mod = await _server.SessionAsync("mod");
        Assert.Contains("data-testid=\"earlier\"", await PageAsync(mod, "/collections/Set%20A"), StringComparison.Ordinal);

        using (var moved = await HtmxPostAsync(mod, "/collections/Set%20A?handler=Move", ("id", ids[2]), ("position", "1")))
        {
            var fragment = await moved.Content.ReadAsStringAsync();
            Assert.Equal([ids[2], ids[0], ids[1]], MemberIds(fragment));
            Assert.Equal($"Moved {ids[2][..12]} to position 1.", ToastOf(moved));
        }

        Assert.Equal([ids[2], ids[0], ids[1]], (await collections.ShowAsync("Set A", CancellationToken.None)).Members);

        using (var removed = await HtmxPostAsync(mod, "/collections/Set%20A?handler=Remove", ("id", ids[0])))
        {
            Assert.Equal([ids[2], ids[1]], MemberIds(await removed.Content.ReadAsStringAsync()));
        }

        using (var renamed = await mod.PostAsync("/collections/Set%20A?handler=Describe", Form(("newName", "Set B"), ("description", "renamed"), ("tags", "beach, sunset"))))
        {
            Assert.Equal(HttpStatusCode.Redirect, renamed.StatusCode);
            Assert.Equal("/collections/Set%20B", renamed.Headers.Location!.OriginalString);
        }

        var described = (await collections.ShowAsync("Set B", CancellationToken.None)).Collection;
        Assert.Equal("renamed", described.Description);
        Assert.Equal(["beach", "sunset"], described.Tags);

        using (var unconfirmed = await mod.PostAsync("/collections/Set%20B?handler=Delete", Form()))
        {
            Assert.Equal(HttpStatusCode.BadRequest, unconfirmed.StatusCode);
            Assert.Contains("Confirm the deletion first.", await unconfirmed.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        using (var deleted = await mod.PostAsync("/collections/Set%20B?handler=Delete", Form(("confirm", "yes"))))
        {
            Assert.Equal(HttpStatusCode.Redirect, deleted.StatusCode);
            Assert.StartsWith("/collections?deleted=", deleted.Headers.Location!.OriginalString, StringComparison.Ordinal);
        }

        Assert.Null(await collections.FindAsync("Set B", CancellationToken.None));
        using var gone = await mod.GetAsync("/collections/Set%20B");
        Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
        Assert.Contains("There is no collection named", await gone.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Tags_page_filters_by_prefix_and_moderators_manage_the_vocabulary()
    {
        var ids = await ImportAsync("alice", 2);
        var tags = new TagService(_server.Library);
        using (_server.Library.ActAs("alice"))
        {
            await tags.AddAsync(ids[0], ["long_hair", "smile"], CancellationToken.None);
            await tags.AddAsync(ids[1], ["long_hair", "short_hair"], CancellationToken.None);
        }

        var alice = await _server.SessionAsync("alice");
        var page = await PageAsync(alice, "/tags");
        Assert.Contains("href=\"/?q=long_hair\"", page, StringComparison.Ordinal);
        Assert.DoesNotContain("data-testid=\"add-alias\"", page, StringComparison.Ordinal);

        using (var filtered = await HtmxGetAsync(alice, "/tags?handler=Table&q=Lo"))
        {
            var table = await filtered.Content.ReadAsStringAsync();
            Assert.StartsWith("<div id=\"tag-table\"", table.TrimStart(), StringComparison.Ordinal);
            Assert.Contains("data-tag=\"long_hair\"", table, StringComparison.Ordinal);
            Assert.DoesNotContain("data-tag=\"short_hair\"", table, StringComparison.Ordinal);
            Assert.DoesNotContain("data-tag=\"smile\"", table, StringComparison.Ordinal);
        }

        using (var refused = await HtmxPostAsync(alice, "/tags?handler=Alias", ("from", "longhair"), ("to", "long_hair")))
        {
            Assert.Contains("You are not allowed to manage aliases.", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        var mod = await _server.SessionAsync("mod");
        Assert.Contains("data-testid=\"add-alias\"", await PageAsync(mod, "/tags"), StringComparison.Ordinal);
        using (var aliased = await HtmxPostAsync(mod, "/tags?handler=Alias", ("from", "smiling"), ("to", "smile")))
        {
            var fragment = await aliased.Content.ReadAsStringAsync();
            Assert.StartsWith("<section id=\"tag-aliases\"", fragment.TrimStart(), StringComparison.Ordinal);
            Assert.Contains("smiling", fragment, StringComparison.Ordinal);
            Assert.Contains("trove-tags-changed", string.Join(' ', aliased.Headers.GetValues("HX-Trigger")), StringComparison.Ordinal);
        }

        using (var implied = await HtmxPostAsync(mod, "/tags?handler=Imply", ("child", "long_hair"), ("parent", "hair")))
        {
            Assert.Contains("2 media retagged", await implied.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        using (var cycle = await HtmxPostAsync(mod, "/tags?handler=Imply", ("child", "hair"), ("parent", "long_hair")))
        {
            Assert.Equal(HttpStatusCode.OK, cycle.StatusCode);
            var fragment = await cycle.Content.ReadAsStringAsync();
            Assert.Contains("role=\"alert\"", fragment, StringComparison.Ordinal);
            Assert.Contains("value=\"hair\"", fragment, StringComparison.Ordinal);
        }

        using (var category = await HtmxPostAsync(mod, "/tags?handler=CategoryAdd", ("name", "species")))
        {
            Assert.Contains("data-testid=\"category\">species (custom)", await category.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        using (var row = await HtmxPostAsync(mod, "/tags?handler=Category", ("tag", "smile"), ("category", "species")))
        {
            var fragment = await row.Content.ReadAsStringAsync();
            Assert.StartsWith("<tr", fragment.TrimStart(), StringComparison.Ordinal);
            Assert.Contains("<option value=\"species\" selected=\"selected\">", fragment, StringComparison.Ordinal);
        }

        using (var described = await HtmxPostAsync(mod, "/tags?handler=Describe", ("tag", "smile"), ("description", "Showing teeth or not")))
        {
            Assert.Contains("value=\"Showing teeth or not\"", await described.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        var vocabulary = await tags.VocabularyAsync(CancellationToken.None);
        Assert.Equal("smile", vocabulary.Aliases["smiling"].To);
        Assert.Contains(vocabulary.Implications, i => i.Child == "long_hair" && i.Parent == "hair");
        Assert.Equal("species", vocabulary.CategoryOf("smile"));
        Assert.Equal("Showing teeth or not", vocabulary.Tags["smile"].Description);
        Assert.True(_server.Library.Files.ReadSidecar(ids[1]).Sidecar.HasTag("hair"));

        using (var unaliased = await HtmxPostAsync(mod, "/tags?handler=Unalias", ("from", "smiling")))
        {
            Assert.Contains("No aliases.", await unaliased.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        using (var unimplied = await HtmxPostAsync(mod, "/tags?handler=Unimply", ("child", "long_hair"), ("parent", "hair")))
        {
            Assert.Contains("No implications.", await unimplied.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Duplicates_page_shows_groups_and_keeping_one_merges_the_others()
    {
        var original = Path.Combine(_server.Scratch, "original.jpg");
        var copy = Path.Combine(_server.Scratch, "copy.jpg");
        var pixels = TestImages.Photo(500, 640, 480);
        TestImages.WriteJpeg(original, pixels, 90);
        TestImages.WriteJpeg(copy, pixels, 55);
        var other = _server.WriteJpeg("other.jpg", 9001, 640, 480);
        var ids = await _server.ImportAsync("alice", original, copy, other);
        Assert.Equal(3, ids.Count);
        using (_server.Library.ActAs("alice"))
        {
            await new TagService(_server.Library).AddAsync(ids[1], ["from_copy"], CancellationToken.None);
        }

        var mod = await _server.SessionAsync("mod");
        var page = await PageAsync(mod, "/duplicates");
        Assert.Equal(1, Regex.Count(page, "data-testid=\"dupe-group\""));
        Assert.Equal(2, Regex.Count(page, "data-testid=\"keep\""));
        Assert.Contains($"/api/media/{ids[0]}/thumbnail?size=512", page, StringComparison.Ordinal);
        Assert.Contains($"/api/media/{ids[1]}/thumbnail?size=512", page, StringComparison.Ordinal);
        Assert.DoesNotContain(ids[2], page, StringComparison.Ordinal);
        Assert.Contains("640 × 480", page, StringComparison.Ordinal);

        using (var bad = await mod.GetAsync("/duplicates?distance=99"))
        {
            Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
            Assert.Contains("--distance must be between 0 and 24", await bad.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        using var merged = await HtmxPostAsync(mod, "/duplicates?handler=Merge&distance=8", ("ids", ids[0]), ("ids", ids[1]), ("keep", ids[0]));
        Assert.Equal(HttpStatusCode.OK, merged.StatusCode);
        Assert.Equal(string.Empty, await merged.Content.ReadAsStringAsync());
        Assert.StartsWith($"Kept {ids[0][..12]} and merged 1 other into it (1 tag added)", ToastOf(merged), StringComparison.Ordinal);

        Assert.True(_server.Library.Files.ReadSidecar(ids[0]).Sidecar.HasTag("from_copy"));
        Assert.True((await new MediaService(_server.Library).ShowAsync(ids[1], CancellationToken.None)).InTrash);
        Assert.DoesNotContain("data-testid=\"dupe-group\"", await PageAsync(mod, "/duplicates"), StringComparison.Ordinal);

        // Merging what is already merged is a service error, shown in the group (htmx) rather than a 500.
        using var again = await HtmxPostAsync(mod, "/duplicates?handler=Merge&distance=8", ("ids", ids[0]), ("ids", ids[1]), ("keep", ids[0]));
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        var fragment = await again.Content.ReadAsStringAsync();
        Assert.Contains("data-testid=\"dupe-group\"", fragment, StringComparison.Ordinal);
        Assert.Contains("is in the trash", fragment, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Admins_create_accounts_whose_first_token_is_shown_once_and_manage_them()
    {
        var admin = await _server.SessionAsync("admin");
        using var created = await HtmxPostAsync(admin, "/users?handler=Create", ("NewName", "carol"), ("NewRole", "moderator"), ("newPassword", ""));
        var fragment = await created.Content.ReadAsStringAsync();
        Assert.StartsWith("Created moderator 'carol' without a password", ToastOf(created), StringComparison.Ordinal);
        var secret = Regex.Match(fragment, "data-testid=\"secret\".*?value=\"(trove_[^\"]+)\"", RegexOptions.Singleline).Groups[1].Value;
        Assert.StartsWith("trove_", secret, StringComparison.Ordinal);
        Assert.Contains("data-user=\"carol\"", fragment, StringComparison.Ordinal);

        using var script = _server.Anonymous();
        script.DefaultRequestHeaders.Authorization = new("Bearer", secret);
        Assert.Equal(HttpStatusCode.OK, (await script.GetAsync("/api/me")).StatusCode);
        Assert.DoesNotContain(secret, await PageAsync(admin, "/users"), StringComparison.Ordinal);

        var accounts = new AccountService(_server.Library);
        using (await HtmxPostAsync(admin, "/users?handler=Role", ("name", "carol"), ("role", "viewer")))
        {
        }

        Assert.Equal(Role.Viewer, (await accounts.GetAsync("carol", CancellationToken.None)).Role);

        using (await HtmxPostAsync(admin, "/users?handler=Password", ("name", "carol"), ("password", "a long enough password")))
        {
        }

        Assert.NotNull(await accounts.SignInAsync("carol", "a long enough password", CancellationToken.None));

        using (var weak = await HtmxPostAsync(admin, "/users?handler=Password", ("name", "carol"), ("password", "short")))
        {
            Assert.Contains("Passwords need at least 10 characters.", await weak.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        using (await HtmxPostAsync(admin, "/users?handler=Disabled", ("name", "carol"), ("disabled", "true")))
        {
        }

        Assert.True((await accounts.GetAsync("carol", CancellationToken.None)).Disabled);
        Assert.Equal(HttpStatusCode.Unauthorized, (await script.GetAsync("/api/me")).StatusCode);

        using (var self = await HtmxPostAsync(admin, "/users?handler=Disabled", ("name", "admin"), ("disabled", "true")))
        {
            Assert.Contains("You cannot disable your own account.", await self.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        Assert.False((await accounts.GetAsync("admin", CancellationToken.None)).Disabled);

        // Revoking one of carol's tokens from the users page.
        using (await HtmxPostAsync(admin, "/users?handler=Disabled", ("name", "carol")))
        {
        }

        var tokenId = (await accounts.ListTokensAsync((await accounts.GetAsync("carol", CancellationToken.None)).Id, CancellationToken.None)).Single().Id;
        using (await HtmxPostAsync(admin, "/users?handler=Revoke", ("tokenId", tokenId.ToString(System.Globalization.CultureInfo.InvariantCulture))))
        {
        }

        Assert.Equal(HttpStatusCode.Unauthorized, (await script.GetAsync("/api/me")).StatusCode);
    }

    [Fact]
    public async Task Account_page_changes_the_own_password_and_manages_own_tokens()
    {
        var alice = await _server.SessionAsync("alice");
        using (var wrong = await HtmxPostAsync(alice, "/account?handler=Password", ("current", "not my password"), ("password", "brand new passphrase"), ("repeat", "brand new passphrase")))
        {
            Assert.Contains("The current password is wrong.", await wrong.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        using (var differ = await HtmxPostAsync(alice, "/account?handler=Password", ("current", TestServer.Password), ("password", "brand new passphrase"), ("repeat", "brand new passphrase!")))
        {
            Assert.Contains("differ", await differ.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        using (var changed = await HtmxPostAsync(alice, "/account?handler=Password", ("current", TestServer.Password), ("password", "brand new passphrase"), ("repeat", "brand new passphrase")))
        {
            Assert.Contains("Password changed.", await changed.Content.ReadAsStringAsync(), StringComparison.Ordinal);

            // The session was renewed (new stamp), so the page gets a new antiforgery token, as manage.js applies it.
            var csrf = (string)Trigger(changed)["trove-csrf"]!["token"]!;
            alice.DefaultRequestHeaders.Remove("X-CSRF-TOKEN");
            alice.DefaultRequestHeaders.Add("X-CSRF-TOKEN", csrf);
        }

        var accounts = new AccountService(_server.Library);
        Assert.NotNull(await accounts.SignInAsync("alice", "brand new passphrase", CancellationToken.None));
        Assert.Null(await accounts.SignInAsync("alice", TestServer.Password, CancellationToken.None));

        // This browser stays signed in (its session was renewed with the new stamp).
        Assert.Contains("data-testid=\"create-token\"", await PageAsync(alice, "/account"), StringComparison.Ordinal);

        using var created = await HtmxPostAsync(alice, "/account?handler=CreateToken", ("tokenName", "laptop"));
        var fragment = await created.Content.ReadAsStringAsync();
        var secret = Regex.Match(fragment, "data-testid=\"secret\".*?value=\"(trove_[^\"]+)\"", RegexOptions.Singleline).Groups[1].Value;
        Assert.StartsWith("trove_", secret, StringComparison.Ordinal);
        using var script = _server.Anonymous();
        script.DefaultRequestHeaders.Authorization = new("Bearer", secret);
        Assert.Equal(HttpStatusCode.OK, (await script.GetAsync("/api/me")).StatusCode);

        var page = await PageAsync(alice, "/account");
        Assert.DoesNotContain(secret, page, StringComparison.Ordinal);
        Assert.Contains(secret[..12] + "…", page, StringComparison.Ordinal);

        var me = await accounts.GetAsync("alice", CancellationToken.None);
        var laptop = (await accounts.ListTokensAsync(me.Id, CancellationToken.None)).Single(t => t.Name == "laptop");
        using (await HtmxPostAsync(alice, "/account?handler=Revoke", ("tokenId", laptop.Id.ToString(System.Globalization.CultureInfo.InvariantCulture))))
        {
        }

        Assert.Equal(HttpStatusCode.Unauthorized, (await script.GetAsync("/api/me")).StatusCode);

        // Someone else's token cannot be revoked from one's own account page.
        var bob = await accounts.GetAsync("bob", CancellationToken.None);
        var bobs = (await accounts.ListTokensAsync(bob.Id, CancellationToken.None)).Single();
        using (var foreign = await HtmxPostAsync(alice, "/account?handler=Revoke", ("tokenId", bobs.Id.ToString(System.Globalization.CultureInfo.InvariantCulture))))
        {
            Assert.Contains("There is no live token", await foreign.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        Assert.Null((await accounts.ListTokensAsync(bob.Id, CancellationToken.None)).Single().RevokedAt);
    }

    [Fact]
    public async Task Jobs_page_shows_own_jobs_polls_while_running_and_links_finished_exports()
    {
        var jobs = _server.Library.State.Jobs;
        var now = DateTimeOffset.UtcNow;
        await jobs.InsertAsync(new JobRecord("aaaa00000000000000000001", "export", JobStatus.Running, "alice", now, now, null, "Exporting", 3, 10, "{\"query\":\"long_hair\"}", null, null), CancellationToken.None);
        await jobs.InsertAsync(new JobRecord("bbbb00000000000000000001", "export", JobStatus.Succeeded, "bob", now, now, now, null, 4, 4, "{\"query\":\"smile\"}", "{\"media\":4,\"bytes\":2048}", null), CancellationToken.None);

        var alice = await _server.SessionAsync("alice");
        var page = await PageAsync(alice, "/jobs");
        Assert.Contains("data-job=\"aaaa00000000000000000001\"", page, StringComparison.Ordinal);
        Assert.DoesNotContain("bbbb00000000000000000001", page, StringComparison.Ordinal);
        Assert.Contains("hx-trigger=\"every 2s\"", page, StringComparison.Ordinal);
        Assert.Contains("<progress max=\"100\" value=\"30\"", page, StringComparison.Ordinal);
        Assert.Contains("query: long_hair", page, StringComparison.Ordinal);

        var bob = await _server.SessionAsync("bob");
        using (var list = await HtmxGetAsync(bob, "/jobs?handler=List"))
        {
            var fragment = WebUtility.HtmlDecode(await list.Content.ReadAsStringAsync());
            Assert.StartsWith("<section id=\"jobs\"", fragment.TrimStart(), StringComparison.Ordinal);
            Assert.DoesNotContain("every 2s", fragment, StringComparison.Ordinal); // nothing of bob's is running: polling stops
            Assert.Contains("href=\"/api/exports/bbbb00000000000000000001/download\"", fragment, StringComparison.Ordinal);
            Assert.Contains("media: 4 · bytes: 2 KB", fragment, StringComparison.Ordinal);
        }

        // Cancelling goes through the job board: someone else's job does not exist for bob; alice's running job is asked
        // to stop (its worker, in whichever process, stops it at its next lease renewal), and the page says so.
        using (var foreign = await HtmxPostAsync(bob, "/jobs?handler=Cancel", ("id", "aaaa00000000000000000001")))
        {
            Assert.Contains("or it is someone else", WebUtility.HtmlDecode(await foreign.Content.ReadAsStringAsync()), StringComparison.Ordinal);
        }

        using (var cancel = await HtmxPostAsync(alice, "/jobs?handler=Cancel", ("id", "aaaa00000000000000000001")))
        {
            Assert.Equal(HttpStatusCode.OK, cancel.StatusCode);
            Assert.Contains("Asked export job aaaa00000000 to stop.", await cancel.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        Assert.True((await jobs.GetAsync("aaaa00000000000000000001", CancellationToken.None))!.CancelRequested);

        var admin = await PageAsync(await _server.SessionAsync("admin"), "/jobs");
        Assert.Contains("aaaa00000000000000000001", admin, StringComparison.Ordinal);
        Assert.Contains("bbbb00000000000000000001", admin, StringComparison.Ordinal);
    }

    private async Task<IReadOnlyList<string>> ImportAsync(string user, int count)
    {
        var paths = Enumerable.Range(0, count).Select(i => _server.WriteJpeg($"{user}-{Guid.NewGuid():n}.jpg", 100 + (i * 37))).ToArray();
        var ids = new List<string>();
        foreach (var path in paths)
        {
            ids.AddRange(await _server.ImportAsync(user, path)); // one at a time: the ids come back in this order
        }

        return ids;
    }

    private static JsonNode Trigger(HttpResponseMessage response) =>
        JsonNode.Parse(string.Join(string.Empty, response.Headers.GetValues("HX-Trigger")))!;

    /// <summary>The toast an htmx answer asks for (HX-Trigger: {"trove-toast": {"message"}}).</summary>
    private static string ToastOf(HttpResponseMessage response) => (string)Trigger(response)["trove-toast"]!["message"]!;

    private static FormUrlEncodedContent Form(params (string Name, string Value)[] fields) =>
        new(fields.Select(f => new KeyValuePair<string, string>(f.Name, f.Value)));

    private static List<string> MemberIds(string html) =>
        MemberItem().Matches(html).Select(m => m.Groups[1].Value).ToList();

    [GeneratedRegex("data-testid=\"member\" data-id=\"([0-9a-f]{64})\"")]
    private static partial Regex MemberItem();
}
