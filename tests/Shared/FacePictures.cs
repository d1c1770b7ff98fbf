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
