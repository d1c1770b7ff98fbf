using Trove.Application.Ports;
using Trove.Domain;
using Trove.Domain.Models;

namespace Trove.Application.Providers;

/// <summary>
/// The library's remote providers (<c>providers.json</c>): list, add, remove, test — and resolve the provider a model
/// names. Holds no secrets: a provider names the environment variable with its key, and only the HTTP edge reads it.
/// </summary>
public sealed class ProviderRegistry(TroveLibrary library)
{
    public IReadOnlyList<ProviderDefinition> List() => library.Files.ReadProviders().Providers;

    public ProviderDefinition Get(string name) =>
        library.Files.ReadProviders().Find(name)
        ?? throw new ProviderException(
            ProviderErrors.NotFound,
            $"There is no provider '{name}' in {Trove.Library.LibraryLayout.ProvidersFileName}.",
            "List providers with 'trove providers list'; add one with 'trove providers add NAME --kind openai --url URL --model M'.",
            permanent: true);

    /// <summary>Adds a provider (or replaces one of the same name when <paramref name="replace"/>), after checking it.</summary>
    public async Task<ProviderDefinition> AddAsync(ProviderDefinition provider, bool replace, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(provider);
        if (provider.Validate() is { Count: > 0 } errors)
        {
            throw new TroveUsageException("bad-provider", $"Provider '{provider.Name}': {string.Join("; ", errors)}.", "Nothing was changed.");
        }

        await using var session = await library.BeginWriteAsync(ct).ConfigureAwait(false);
        var catalog = library.Files.ReadProviders();
        if (catalog.Find(provider.Name) is { } existing)
        {
            if (!replace)
            {
                throw new TroveException("provider-exists", $"There is already a provider '{provider.Name}' ({existing.Kind} at {existing.Url}).", "Remove it first, or add with --replace.");
            }

            catalog.Providers.Remove(existing);
        }

        catalog.Providers.Add(provider);
        catalog.Providers.Sort((a, b) => string.CompareOrdinal(a.Name, b.Name));
        session.SaveProviders(catalog);
        session.Audit("provider-add", provider.Name, $"{provider.Kind} {provider.Url} {provider.Model}");
        return provider;
    }

    /// <summary>Removes a provider; refused while a model still runs on it.</summary>
    public async Task RemoveAsync(string name, CancellationToken ct)
    {
        await using var session = await library.BeginWriteAsync(ct).ConfigureAwait(false);
        var catalog = library.Files.ReadProviders();
        var provider = catalog.Find(name) ?? throw new TroveException("provider-not-found", $"There is no provider '{name}'.", "List providers with 'trove providers list'.");
        var users = library.Files.ReadModels().Models.Where(m => string.Equals(m.Provider, name, StringComparison.Ordinal)).Select(m => m.Id).ToList();
        if (users.Count > 0)
        {
            throw new TroveException("provider-in-use", $"Provider '{name}' runs model(s) {string.Join(", ", users)}.", $"Remove those models first ('trove models remove {users[0]}').");
        }

        catalog.Providers.Remove(provider);
        session.SaveProviders(catalog);
        session.Audit("provider-remove", name);
    }

    public Task<ProviderProbe> TestAsync(string name, CancellationToken ct) => library.Remote.TestAsync(Get(name), ct);

    /// <summary>
    /// The image a provider is sent for a media: downscaled to the provider's longest side as JPEG through libvips
    /// (never upscaled), or the original file itself only when the provider has <c>sendOriginals</c>.
    /// </summary>
    public static async Task<RemoteImage> PrepareImageAsync(TroveLibrary library, MediaSidecar sidecar, string path, ProviderDefinition provider, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(library);
        ArgumentNullException.ThrowIfNull(sidecar);
        ArgumentNullException.ThrowIfNull(provider);
        if (provider.SendOriginals)
        {
            var bytes = await File.ReadAllBytesAsync(path, ct).ConfigureAwait(false);
            return new RemoteImage(bytes, sidecar.Original.MediaType, sidecar.Original.Width ?? 0, sidecar.Original.Height ?? 0);
        }

        var rendered = library.Imaging.Render(path, new RenderRequest(null, provider.ImageMaxSide, ImageFormat.Jpeg, provider.ImageQuality, library.Options.Imaging.Limits), ct);
        return new RemoteImage(rendered.Data, "image/jpeg", rendered.Width, rendered.Height);
    }
}
