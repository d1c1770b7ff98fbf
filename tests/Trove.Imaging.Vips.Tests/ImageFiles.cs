using Trove.Application.Ports;
using Trove.Imaging.Vips;
using Trove.Testing;

namespace Trove.Imaging.Vips.Tests;

/// <summary>
/// The engine (created once, as the hosts do) and a temp folder of real files in every format, written once per run.
/// </summary>
public sealed class ImageFiles : IDisposable
{
    public const int PhotoWidth = 320;
    public const int PhotoHeight = 240;

    public ImageFiles()
    {
        Directory = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "trove-vips-tests-" + Guid.NewGuid().ToString("N"));
        System.IO.Directory.CreateDirectory(Directory);
        Engine = VipsImageEngine.Create(new VipsOptions());

        var photo = TestImages.Photo(1, PhotoWidth, PhotoHeight);
        TestImages.WriteJpeg(Path("baseline.jpg"), photo);
        TestImages.WriteJpeg(Path("progressive.jpg"), photo, progressive: true);
        TestImages.WriteJpeg(Path("cmyk.jpg"), TestImages.Solid(PhotoWidth, PhotoHeight, 220, 30, 30), cmyk: true);
        TestImages.WritePng(Path("rgba.png"), TestImages.WithAlpha(photo, 200));
        TestImages.WritePng(Path("rgb16.png"), photo, sixteenBit: true);
        TestImages.WritePng(Path("gray.png"), TestImages.ToGray(photo));
        TestImages.WritePng(Path("gray16.png"), TestImages.ToGray(photo), sixteenBit: true);
        TestImages.WritePng(Path("transparent.png"), TestImages.Solid(PhotoWidth, PhotoHeight, 0, 0, 0, 0));
        TestImages.WriteWebp(Path("photo.webp"), photo);
        TestImages.WriteTiff(Path("photo.tif"), photo);
        TestImages.WriteGif(
            Path("animated.gif"),
            TestImages.Solid(PhotoWidth, PhotoHeight, 255, 0, 0),
            TestImages.Solid(PhotoWidth, PhotoHeight, 0, 255, 0),
            TestImages.Solid(PhotoWidth, PhotoHeight, 0, 0, 255));
    }

    public IImageEngine Engine { get; }

    public string Directory { get; }

    /// <summary>Every photo-like file: name, expected format, bands, alpha, interpretation, frames.</summary>
    public static TheoryData<string, string, int, bool, string, int> Formats => new()
    {
        { "baseline.jpg", "jpeg", 3, false, "srgb", 1 },
        { "progressive.jpg", "jpeg", 3, false, "srgb", 1 },
        { "cmyk.jpg", "jpeg", 4, false, "cmyk", 1 },
        { "rgba.png", "png", 4, true, "srgb", 1 },
        { "rgb16.png", "png", 3, false, "rgb16", 1 },
        { "gray.png", "png", 1, false, "b-w", 1 },
        { "gray16.png", "png", 1, false, "grey16", 1 },
        { "transparent.png", "png", 4, true, "srgb", 1 },
        { "photo.webp", "webp", 3, false, "srgb", 1 },
        { "photo.tif", "tiff", 3, false, "srgb", 1 },
        { "animated.gif", "gif", 4, true, "srgb", 3 },
    };

    public static TheoryData<string> Files => new(Formats.Select(row => (string)row[0]));

    public string Path(string name) => System.IO.Path.Combine(Directory, name);

    /// <summary>A fresh path in the temp folder for a test's own file.</summary>
    public string NewPath(string suffix) => Path(Guid.NewGuid().ToString("N") + suffix);

    /// <summary>Decodes encoded bytes back into 8-bit pixels through libvips.</summary>
    public RgbPixels Decode(EncodedImage encoded)
    {
        ArgumentNullException.ThrowIfNull(encoded);
        var path = NewPath("." + encoded.Extension);
        File.WriteAllBytes(path, encoded.Data);
        using var image = VipsImage.FromFile(path);
        return image.ToPixels();
    }

    public void Dispose()
    {
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

[CollectionDefinition(Name)]
public sealed class ImageFilesCollection : ICollectionFixture<ImageFiles>
{
    public const string Name = "libvips";
}
