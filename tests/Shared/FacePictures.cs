using Trove.Application.Ports;

namespace Trove.Testing;

/// <summary>A square "face" for the generated SCRFD detector (<see cref="OnnxModels.FaceDetector"/>): its centre, side and colour.</summary>
public sealed record FaceSquare(int X, int Y, byte[] Colour, int Size = 128);

/// <summary>
/// Pictures the generated face models understand: a dark 640² background with bright squares, which the detector finds
/// (128 px on the stride-32 grid, 64 px on the stride-16 grid) and the embedder tells apart by colour.
/// </summary>
public static class FacePictures
{
    public const int Side = 640;

    public static readonly byte[] Red = [255, 20, 20];
    public static readonly byte[] Green = [20, 255, 20];
    public static readonly byte[] Blue = [20, 20, 255];

    /// <summary>
    /// The pictures the face tests share: three red faces (a, b, c) and three green ones (a, d, e) — two groups of
    /// three, one per person, with the generated embedder — and a lone blue face (c). In the image's pixels the red face
    /// of b is the box (96, 96, 128, 128); a's green one is at (416, 416), c's red at (416, 96), c's blue at (96, 416),
    /// d's green at (96, 96), e's at (416, 96).
    /// </summary>
    public static IReadOnlyList<(string Name, FaceSquare[] Squares)> TwoPeople { get; } =
    [
        ("a", [new FaceSquare(160, 160, Red), new FaceSquare(480, 480, Green)]),
        ("b", [new FaceSquare(160, 160, Red)]),
        ("c", [new FaceSquare(480, 160, Red), new FaceSquare(160, 480, Blue)]),
        ("d", [new FaceSquare(160, 160, Green)]),
        ("e", [new FaceSquare(480, 160, Green)]),
    ];

    /// <summary>Adds <see cref="TwoPeople"/> to a library through <paramref name="import"/> (name, squares → media id): the ids of a to e.</summary>
    public static async Task<(string A, string B, string C, string D, string E)> ImportTwoPeopleAsync(Func<string, FaceSquare[], Task<string>> import)
    {
        ArgumentNullException.ThrowIfNull(import);
        var ids = new List<string>();
        foreach (var (name, squares) in TwoPeople)
        {
            ids.Add(await import(name, squares).ConfigureAwait(false));
        }

        return (ids[0], ids[1], ids[2], ids[3], ids[4]);
    }

    public static RgbPixels Draw(params FaceSquare[] squares)
    {
        var pixels = TestImages.Solid(Side, Side, 12, 12, 12);
        foreach (var s in squares)
        {
            for (var y = s.Y - (s.Size / 2); y < s.Y + (s.Size / 2); y++)
            {
                for (var x = s.X - (s.Size / 2); x < s.X + (s.Size / 2); x++)
                {
                    s.Colour.CopyTo(pixels.Data, ((y * Side) + x) * 3);
                }
            }
        }

        return pixels;
    }

    /// <summary>Writes the picture as a PNG at <paramref name="path"/> (folders created).</summary>
    public static string WritePng(string path, params FaceSquare[] squares)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        TestImages.WritePng(path, Draw(squares));
        return path;
    }
}
