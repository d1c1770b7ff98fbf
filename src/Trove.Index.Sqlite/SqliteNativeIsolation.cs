using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Trove.Index.Sqlite;

/// <summary>
/// Keeps our bundled SQLite (libe_sqlite3) bound to itself. libvips loads its format modules with RTLD_GLOBAL, and the
/// openslide module drags the system libsqlite3 into the global symbol scope; e_sqlite3's own internal calls
/// (sqlite3_initialize…) would then resolve to the system copy, whose state is separate, and crash on first open.
/// Loading e_sqlite3 first with RTLD_DEEPBIND makes it prefer its own symbols whatever is loaded later or earlier.
/// </summary>
internal static partial class SqliteNativeIsolation
{
    private const int RtldNow = 0x2;
    private const int RtldDeepBind = 0x8;
    private static nint _handle;

#pragma warning disable CA2255 // Must run before SQLitePCLRaw loads the library, whoever touches this assembly first.
    [ModuleInitializer]
#pragma warning restore CA2255
    internal static void Initialize()
    {
        if (!OperatingSystem.IsLinux() || _handle != 0)
        {
            return;
        }

        foreach (var dir in SearchDirectories())
        {
            var path = Path.Combine(dir, "libe_sqlite3.so");
            if (File.Exists(path))
            {
                // Later loads of the same file (by SQLitePCLRaw) return this already-loaded, deep-bound object.
                _handle = DlOpen(path, RtldNow | RtldDeepBind);
                return;
            }
        }
    }

    private static IEnumerable<string> SearchDirectories()
    {
        if (AppContext.GetData("NATIVE_DLL_SEARCH_DIRECTORIES") is string dirs)
        {
            foreach (var dir in dirs.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
            {
                yield return dir;
            }
        }

        var rid = RuntimeInformation.ProcessArchitecture == Architecture.Arm64 ? "linux-arm64" : "linux-x64";
        yield return Path.Combine(AppContext.BaseDirectory, "runtimes", rid, "native");
        yield return AppContext.BaseDirectory;
    }

    [LibraryImport("libc", EntryPoint = "dlopen", StringMarshalling = StringMarshalling.Utf8)]
    private static partial nint DlOpen(string path, int flags);
}
