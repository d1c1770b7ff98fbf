namespace Trove.Inference.Onnx.Native;

/// <summary>A library to try: a path or soname, and whether the user named it (then nothing else is tried).</summary>
internal sealed record OrtLibraryCandidate(string Path, bool Configured);

/// <summary>Where ONNX Runtime's shared library is looked for (see <see cref="OnnxOptions.LibraryPath"/>).</summary>
internal static class OrtLibraryLocator
{
    public const string FileName = "libonnxruntime.so.1";

    /// <summary>Where <c>make deps</c> puts the library, relative to the repository root.</summary>
    public static readonly string InstalledRelativePath = Path.Combine(".native", "onnxruntime", FileName);

    public static IReadOnlyList<OrtLibraryCandidate> Candidates(OnnxOptions options) =>
        Candidates(options.LibraryPath, Environment.GetEnvironmentVariable(OnnxOptions.LibraryPathVariable), AppContext.BaseDirectory);

    /// <summary>The configured library only, or else the installed copy nearest <paramref name="baseDirectory"/> and the system one.</summary>
    public static IReadOnlyList<OrtLibraryCandidate> Candidates(string? configured, string? environmentValue, string baseDirectory)
    {
        var named = !string.IsNullOrWhiteSpace(configured) ? configured.Trim()
            : !string.IsNullOrWhiteSpace(environmentValue) ? environmentValue.Trim()
            : null;
        if (named is not null)
        {
            return [new OrtLibraryCandidate(Directory.Exists(named) ? Path.Combine(named, FileName) : named, true)];
        }

        var candidates = new List<OrtLibraryCandidate>(2);
        for (var dir = new DirectoryInfo(baseDirectory); dir is not null; dir = dir.Parent)
        {
            var installed = Path.Combine(dir.FullName, InstalledRelativePath);
            if (File.Exists(installed))
            {
                candidates.Add(new OrtLibraryCandidate(installed, false));
                break;
            }
        }

        candidates.Add(new OrtLibraryCandidate(FileName, false));
        return candidates;
    }
}
