using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Trove.Library;

/// <summary>The few POSIX calls .NET does not expose: fsync of a directory so a rename is durable.</summary>
internal static partial class NativeFileSystem
{
    private const int ORdOnly = 0;
    private const int ODirectory = 0x10000; // Linux x86-64/arm64

    public static void FsyncDirectory(string directory)
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }

        using var handle = OpenDirectory(directory);
        if (handle.IsInvalid)
        {
            ThrowLastError("open", directory);
        }

        if (fsync(handle) != 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            // Some filesystems (e.g. certain FUSE mounts) do not support fsync on directories.
            if (errno is not (22 or 95))
            {
                ThrowLastError("fsync", directory);
            }
        }
    }

    private static SafeDirectoryHandle OpenDirectory(string path) => open(path, ORdOnly | ODirectory);

    private static void ThrowLastError(string call, string path)
    {
        var errno = Marshal.GetLastPInvokeError();
        throw new IOException($"{call}('{path}') failed: {Marshal.GetPInvokeErrorMessage(errno)}", errno);
    }

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial SafeDirectoryHandle open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "fsync", SetLastError = true)]
    private static partial int fsync(SafeDirectoryHandle fd);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    internal static partial int close(IntPtr fd);
}

/// <summary>Owns a directory file descriptor opened with open(2).</summary>
internal sealed class SafeDirectoryHandle : SafeHandleMinusOneIsInvalid
{
    public SafeDirectoryHandle()
        : base(ownsHandle: true)
    {
    }

    protected override bool ReleaseHandle() => NativeFileSystem.close(handle) == 0;
}
