namespace Trove.Library.Tests;

/// <summary>A fresh folder under the system temp directory, deleted on dispose.</summary>
public sealed class TempDirectory : IDisposable
{
    public TempDirectory()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "trove-tests-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string Combine(params string[] parts) => System.IO.Path.Combine([Path, .. parts]);

    public void Dispose()
    {
        try
        {
            // Originals may be made read-only by callers; make everything writable so the delete succeeds.
            foreach (var file in Directory.EnumerateFiles(Path, "*", SearchOption.AllDirectories))
            {
                File.SetUnixFileMode(file, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            }

            Directory.Delete(Path, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
        }
    }
}

internal static class TestIds
{
    public static string Of(char c) => new(c, Domain.MediaId.Length);

    /// <summary>A valid id whose first four characters are <paramref name="prefix"/>.</summary>
    public static string WithPrefix(string prefix) => prefix + new string('0', Domain.MediaId.Length - prefix.Length);
}
