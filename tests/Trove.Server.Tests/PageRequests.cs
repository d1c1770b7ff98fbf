using System.Net;
using System.Text.RegularExpressions;

namespace Trove.Server.Tests;

/// <summary>Requests the page tests make the way a browser and htmx do: whole pages, htmx fragments, form posts to page handlers.</summary>
internal static partial class PageRequests
{
    /// <summary>GETs a page and asserts it is a 200 HTML page.</summary>
    public static async Task<string> PageAsync(HttpClient client, string url)
    {
        using var response = await client.GetAsync(url);
        var html = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"GET {url}: {(int)response.StatusCode} {html}");
        Assert.StartsWith("text/html", response.Content.Headers.ContentType?.ToString() ?? string.Empty, StringComparison.Ordinal);
        return html;
    }

    /// <summary>Posts form fields to a page handler with the HX-Request header.</summary>
    public static Task<HttpResponseMessage> HtmxPostAsync(HttpClient client, string url, params (string Name, string Value)[] fields)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, url)
        {
            Content = new FormUrlEncodedContent(fields.Select(f => new KeyValuePair<string, string>(f.Name, f.Value))),
        };
        request.Headers.Add("HX-Request", "true");
        return client.SendAsync(request);
    }

    public static Task<HttpResponseMessage> HtmxGetAsync(HttpClient client, string url)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, url);
        request.Headers.Add("HX-Request", "true");
        return client.SendAsync(request);
    }

    /// <summary>The antiforgery token of the page's forms.</summary>
    public static string TokenOf(string html)
    {
        var match = AntiforgeryInput().Match(html);
        Assert.True(match.Success, "the page has no antiforgery token in its forms");
        return WebUtility.HtmlDecode(match.Groups[1].Value);
    }

    [GeneratedRegex("name=\"__RequestVerificationToken\"[^>]*value=\"([^\"]+)\"")]
    private static partial Regex AntiforgeryInput();
}
