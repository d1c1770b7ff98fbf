using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Trove.Imaging.Vips.Native;

namespace Trove.Imaging.Vips;

/// <summary>
/// Loads and starts libvips once per process (thread-safe), and applies <see cref="VipsOptions"/> (cache, threads,
/// blocked loaders) on every start-up request since those settings are process-wide anyway.
/// </summary>
internal static unsafe class VipsRuntime
{
    public const string NotFoundMessage = "libvips 8.x not found — install it with `apt-get install libvips42` (or run `make deps`)";

    /// <summary>Loaders that only make sense for trusted input; uploaded content needs photo formats only.</summary>
    internal static readonly string[] UntrustedLoaders =
    [
        "VipsForeignLoadMagick", "VipsForeignLoadPdf", "VipsForeignLoadSvg", "VipsForeignLoadMatrix", "VipsForeignLoadCsv",
        "VipsForeignLoadRaw", "VipsForeignLoadVips", "VipsForeignLoadFits", "VipsForeignLoadAnalyze", "VipsForeignLoadOpenexr",
        "VipsForeignLoadMat",
    ];

    /// <summary>Photo formats reported in <c>ImagingStatus.Loaders</c> when their loader exists.</summary>
    private static readonly string[] PhotoFormats = ["jpeg", "png", "webp", "gif", "tiff", "heif", "jxl", "jp2k"];

    private static readonly string[] RequiredSymbols =
    [
        "vips_init", "vips_version", "vips_error_buffer_copy", "vips_operation_new", "vips_object_get_argument",
        "vips_cache_operation_build", "vips_object_unref_outputs", "vips_block_untrusted_set", "vips_operation_block_set",
        "vips_image_new_from_memory_copy", "vips_image_copy_memory", "vips_image_set_kill", "vips_foreign_find_load",
    ];

    private static readonly Lock Gate = new();
    private static nint s_vips;
    private static nint s_gobject;
    private static nint s_glib;
    private static bool s_resolverSet;
    private static string? s_loadedName;
    private static Started? s_started;
    private static ILogger s_logger = NullLogger.Instance;

    /// <summary>What a successful start-up knows.</summary>
    internal sealed record Started(string Version, IReadOnlyList<string> Loaders);

    /// <summary>Starts libvips with <paramref name="options"/>; on failure returns null and says why.</summary>
    public static Started? TryStart(VipsOptions options, ILogger logger, out string? failure)
    {
        ArgumentNullException.ThrowIfNull(options);
        lock (Gate)
        {
            failure = null;
            if (!NativeLibrary.TryLoad(options.LibraryName, out var vips))
            {
                failure = NotFoundMessage;
                return null;
            }

            if (s_started is null)
            {
                if (!TryFirstStart(options, vips, out failure))
                {
                    return null;
                }
            }
            else
            {
                if (vips != s_vips)
                {
                    Log.VipsAlreadyLoaded(logger, s_loadedName ?? NativeMethods.Vips, options.LibraryName);
                }

                NativeLibrary.Free(vips);
            }

            if (logger is not NullLogger)
            {
                Volatile.Write(ref s_logger, logger);
            }

            Apply(options, logger);
            Log.VipsReady(logger, s_started!.Version, options.Concurrency, options.CacheMaxOperations, s_started.Loaders);
            return s_started;
        }
    }

    /// <summary>Used by the public <see cref="VipsImage"/> API: starts with default options unless already started.</summary>
    public static void EnsureInitialised()
    {
        if (Volatile.Read(ref s_started) is not null)
        {
            return;
        }

        if (TryStart(new VipsOptions(), NullLogger.Instance, out var failure) is null)
        {
            throw new InvalidOperationException(failure);
        }
    }

    private static bool TryFirstStart(VipsOptions options, nint vips, out string? failure)
    {
        failure = null;
        foreach (var symbol in RequiredSymbols)
        {
            if (!NativeLibrary.TryGetExport(vips, symbol, out _))
            {
                failure = $"{NotFoundMessage}: {options.LibraryName} has no {symbol} (libvips 8.13 or later is needed)";
                NativeLibrary.Free(vips);
                return false;
            }
        }

        var version = (delegate* unmanaged<int, int>)NativeLibrary.GetExport(vips, "vips_version");
        int major = version(0), minor = version(1);
        if (major != 8 || minor < 13)
        {
            failure = $"{NotFoundMessage}: {options.LibraryName} is libvips {major}.{minor}";
            NativeLibrary.Free(vips);
            return false;
        }

        if (!NativeLibrary.TryLoad(NativeMethods.GObject, out var gobject) || !NativeLibrary.TryLoad(NativeMethods.GLib, out var glib))
        {
            failure = $"{NotFoundMessage}: GLib/GObject ({NativeMethods.GObject}, {NativeMethods.GLib}) could not be loaded";
            NativeLibrary.Free(vips);
            return false;
        }

        s_vips = vips;
        s_gobject = gobject;
        s_glib = glib;
        s_loadedName = options.LibraryName;
        if (!s_resolverSet)
        {
            NativeLibrary.SetDllImportResolver(typeof(VipsRuntime).Assembly, Resolve);
            s_resolverSet = true;
        }

        // libvips' warnings ("error in tile …", duplicates of the errors Trove reports) go to the log, not stderr.
        const int critical = 1 << 3, warning = 1 << 4, message = 1 << 5, info = 1 << 6, debug = 1 << 7;
        NativeMethods.g_log_set_handler("VIPS", critical | warning | message | info | debug, &OnLibvipsLog, 0);

        if (NativeMethods.vips_init("trove") != 0)
        {
            failure = VipsException.FromErrorBuffer("libvips could not start").Message;
            return false;
        }

        var versionText = Marshal.PtrToStringUTF8(NativeMethods.vips_version_string()) ?? $"{major}.{minor}";
        var loaders = PhotoFormats.Where(f => NativeMethods.vips_type_find("VipsOperation", f + "load") != 0).ToArray();
        Volatile.Write(ref s_started, new Started(versionText, loaders));
        return true;
    }

    private static void Apply(VipsOptions options, ILogger logger)
    {
        NativeMethods.vips_concurrency_set(Math.Max(1, options.Concurrency));
        NativeMethods.vips_cache_set_max(Math.Max(0, options.CacheMaxOperations));
        NativeMethods.vips_cache_set_max_mem((nuint)Math.Max(0, options.CacheMaxMemoryBytes));
        NativeMethods.vips_cache_set_max_files(Math.Max(0, options.CacheMaxFiles));

        var block = options.BlockUntrusted ? 1 : 0;
        NativeMethods.vips_block_untrusted_set(block);
        foreach (var loader in UntrustedLoaders)
        {
            NativeMethods.vips_operation_block_set(loader, block);
        }

        if (options.BlockUntrusted)
        {
            Log.VipsBlocked(logger, UntrustedLoaders);
        }
    }

    /// <summary>GLib log callback (any libvips thread). Must never throw back into native code.</summary>
    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static void OnLibvipsLog(nint domain, int level, nint message, nint userData)
    {
        try
        {
            var logger = Volatile.Read(ref s_logger);
            var text = Marshal.PtrToStringUTF8(message) ?? string.Empty;
            if ((level & (1 << 3)) != 0)
            {
                Log.VipsCritical(logger, text);
            }
            else
            {
                Log.VipsMessage(logger, text);
            }
        }
        catch (Exception)
        {
            // Logging failed; there is nowhere safer to report it from a native callback.
        }
    }

    private static nint Resolve(string libraryName, Assembly assembly, DllImportSearchPath? searchPath) => libraryName switch
    {
        NativeMethods.Vips => s_vips,
        NativeMethods.GObject => s_gobject,
        NativeMethods.GLib => s_glib,
        _ => 0,
    };
}
