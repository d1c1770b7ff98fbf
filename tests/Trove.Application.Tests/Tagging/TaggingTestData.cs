namespace Trove.Application.Tests.Tagging;

/// <summary>Real data files shared by the tagging tests.</summary>
internal static class TaggingTestData
{
    /// <summary>The real WD14 label file (../shared/data from the repository root).</summary>
    public static string Wd14Labels => Path.Combine(RepoRoot(), "..", "shared", "data", "wd14-selected_tags.csv");

    private static string RepoRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Trove.slnx")))
        {
            dir = dir.Parent;
        }

        return dir?.FullName ?? throw new InvalidOperationException("Trove.slnx not found above " + AppContext.BaseDirectory);
    }
}
