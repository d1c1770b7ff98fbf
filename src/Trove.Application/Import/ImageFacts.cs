using Trove.Application.Ports;
using Trove.Domain;
using Trove.Domain.Similarity;
using Trove.Library;

namespace Trove.Application.Import;

/// <summary>What one decode of an image tells us (size, format, orientation, perceptual hashes) and the grid thumbnail it yields.</summary>
internal static class ImageFacts
{
    private static readonly SampleSize[] HashSamples =
        [new(PerceptualHash.PHashSampleSize, PerceptualHash.PHashSampleSize), new(PerceptualHash.DHashSampleWidth, PerceptualHash.DHashSampleHeight)];

    /// <summary>Decodes once: header, bomb guard, import thumbnail, hash samples.</summary>
    public static ImageAnalysis Analyze(TroveLibrary library, string path, CancellationToken ct)
    {
        var settings = library.Options.Imaging;
        return library.Imaging.Analyze(
            path,
            new AnalyzeRequest(settings.ImportThumbnailSize, settings.ThumbnailFormat, settings.ThumbnailQuality, HashSamples, settings.Limits),
            ct);
    }

    /// <summary>Stores the import thumbnail in the cache (no fsync: the cache can always be rebuilt).</summary>
    public static void WriteThumbnail(TroveLibrary library, string id, EncodedImage thumbnail)
    {
        var path = library.Layout.ThumbnailPath(id, library.Options.Imaging.ImportThumbnailSize, thumbnail.Extension);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        AtomicFile.WriteAllBytes(path, thumbnail.Data, Durability.Fast);
    }

    /// <summary>Records the decoded facts in the sidecar's description of its original.</summary>
    public static void Apply(OriginalInfo original, ImageAnalysis analysis)
    {
        var info = analysis.Info;
        original.Width = info.DisplayWidth;
        original.Height = info.DisplayHeight;
        original.Format = info.Format;
        original.Orientation = info.Orientation != 1 ? info.Orientation : null;
        original.Frames = info.Frames > 1 ? info.Frames : null;
        original.PHash = PerceptualHash.ToHex(PerceptualHash.PHash(analysis.Samples[0].Pixels));
        original.DHash = PerceptualHash.ToHex(PerceptualHash.DHash(analysis.Samples[1].Pixels));
    }

    /// <summary>Whether a sidecar lacks facts that a decode would give.</summary>
    public static bool Missing(MediaSidecar sidecar) =>
        sidecar.Original.Width is null || sidecar.Original.Height is null || sidecar.Original.PHash is null || sidecar.Original.DHash is null;
}
