using System.Runtime.InteropServices;

namespace Trove.Imaging.Vips.Native;

/// <summary>
/// The libvips / GObject / GLib entry points Trove uses. Only non-varargs functions: operations are driven through
/// <c>vips_operation_new</c> + GObject properties (see <see cref="VipsOperation"/>). The library names are logical:
/// <see cref="VipsRuntime"/> resolves them to the handles it loaded (so <see cref="VipsOptions.LibraryName"/> works).
/// </summary>
internal static unsafe partial class NativeMethods
{
    internal const string Vips = "libvips.so.42";
    internal const string GObject = "libgobject-2.0.so.0";
    internal const string GLib = "libglib-2.0.so.0";

    // ---- start-up and global configuration ----

    [LibraryImport(Vips, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int vips_init(string argv0);

    [LibraryImport(Vips)]
    internal static partial nint vips_version_string();

    [LibraryImport(Vips)]
    internal static partial void vips_concurrency_set(int concurrency);

    [LibraryImport(Vips)]
    internal static partial void vips_cache_set_max(int max);

    [LibraryImport(Vips)]
    internal static partial void vips_cache_set_max_mem(nuint maxMemory);

    [LibraryImport(Vips)]
    internal static partial void vips_cache_set_max_files(int maxFiles);

    [LibraryImport(Vips)]
    internal static partial void vips_block_untrusted_set(int state);

    [LibraryImport(Vips, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial void vips_operation_block_set(string name, int state);

    [LibraryImport(Vips, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial nuint vips_type_find(string basename, string nickname);

    [LibraryImport(Vips)]
    internal static partial nint vips_nickname_find(nuint type);

    // ---- errors ----

    /// <summary>Copies and clears the error buffer under libvips' lock; free the result with g_free.</summary>
    [LibraryImport(Vips)]
    internal static partial nint vips_error_buffer_copy();

    [LibraryImport(Vips)]
    internal static partial void vips_error_clear();

    // ---- operations ----

    [LibraryImport(Vips, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial VipsOperationHandle vips_operation_new(string name);

    [LibraryImport(Vips, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int vips_object_get_argument(
        VipsOperationHandle operation, string name, out nint pspec, out nint argumentClass, out nint argumentInstance);

    /// <summary>Builds (or finds in the cache) the operation; returns a new reference, or NULL on error.</summary>
    [LibraryImport(Vips)]
    internal static partial VipsOperationHandle vips_cache_operation_build(VipsOperationHandle operation);

    [LibraryImport(Vips)]
    internal static partial void vips_object_unref_outputs(VipsOperationHandle operation);

    [LibraryImport(Vips)]
    internal static partial int vips_operation_get_flags(VipsOperationHandle operation);

    [LibraryImport(Vips, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial nint vips_foreign_find_load(string filename);

    [LibraryImport(Vips, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial nint vips_foreign_find_save(string filename);

    [LibraryImport(Vips)]
    internal static partial nint vips_enum_nick(nuint enumType, int value);

    [LibraryImport(Vips, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int vips_enum_from_nick(string domain, nuint enumType, string nick);

    [LibraryImport(Vips, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int vips_flags_from_nick(string domain, nuint flagsType, string nick);

    [LibraryImport(Vips)]
    internal static partial nuint vips_interpretation_get_type();

    [LibraryImport(Vips)]
    internal static partial nuint vips_band_format_get_type();

    [LibraryImport(Vips)]
    internal static partial nuint vips_array_double_get_type();

    [LibraryImport(Vips)]
    internal static partial void vips_value_set_array_double(GValue* value, double* array, int n);

    [LibraryImport(Vips)]
    internal static partial nuint vips_array_int_get_type();

    [LibraryImport(Vips)]
    internal static partial void vips_value_set_array_int(GValue* value, int* array, int n);

    // ---- blobs ----

    [LibraryImport(Vips)]
    internal static partial nint vips_blob_get(VipsBlobHandle blob, out nuint length);

    [LibraryImport(Vips)]
    internal static partial void vips_area_unref(nint area);

    // ---- images ----

    [LibraryImport(Vips)]
    internal static partial VipsImageHandle vips_image_new_from_memory_copy(void* data, nuint size, int width, int height, int bands, int format);

    [LibraryImport(Vips)]
    internal static partial GMemoryHandle vips_image_write_to_memory(VipsImageHandle image, out nuint size);

    [LibraryImport(Vips)]
    internal static partial VipsImageHandle vips_image_copy_memory(VipsImageHandle image);

    [LibraryImport(Vips)]
    internal static partial int vips_image_get_width(VipsImageHandle image);

    [LibraryImport(Vips)]
    internal static partial int vips_image_get_height(VipsImageHandle image);

    [LibraryImport(Vips)]
    internal static partial int vips_image_get_bands(VipsImageHandle image);

    [LibraryImport(Vips)]
    internal static partial int vips_image_get_format(VipsImageHandle image);

    [LibraryImport(Vips)]
    internal static partial int vips_image_get_interpretation(VipsImageHandle image);

    [LibraryImport(Vips)]
    internal static partial int vips_image_hasalpha(VipsImageHandle image);

    [LibraryImport(Vips)]
    internal static partial int vips_image_get_n_pages(VipsImageHandle image);

    [LibraryImport(Vips)]
    internal static partial int vips_image_get_page_height(VipsImageHandle image);

    [LibraryImport(Vips, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial nuint vips_image_get_typeof(VipsImageHandle image, string name);

    [LibraryImport(Vips, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int vips_image_get_int(VipsImageHandle image, string name, out int value);

    [LibraryImport(Vips, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial void vips_image_set_int(VipsImageHandle image, string name, int value);

    [LibraryImport(Vips)]
    internal static partial void vips_image_set_kill(VipsImageHandle image, int kill);

    // ---- GObject ----

    [LibraryImport(GObject)]
    internal static partial GValue* g_value_init(GValue* value, nuint type);

    [LibraryImport(GObject)]
    internal static partial void g_value_unset(GValue* value);

    [LibraryImport(GObject)]
    internal static partial void g_value_set_boolean(GValue* value, int v);

    [LibraryImport(GObject)]
    internal static partial void g_value_set_int(GValue* value, int v);

    [LibraryImport(GObject)]
    internal static partial void g_value_set_uint(GValue* value, uint v);

    [LibraryImport(GObject)]
    internal static partial void g_value_set_int64(GValue* value, long v);

    [LibraryImport(GObject)]
    internal static partial void g_value_set_uint64(GValue* value, ulong v);

    [LibraryImport(GObject)]
    internal static partial void g_value_set_float(GValue* value, float v);

    [LibraryImport(GObject)]
    internal static partial void g_value_set_double(GValue* value, double v);

    [LibraryImport(GObject, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial void g_value_set_string(GValue* value, string v);

    [LibraryImport(GObject)]
    internal static partial void g_value_set_enum(GValue* value, int v);

    [LibraryImport(GObject)]
    internal static partial void g_value_set_flags(GValue* value, uint v);

    [LibraryImport(GObject)]
    internal static partial void g_value_set_object(GValue* value, VipsImageHandle image);

    [LibraryImport(GObject)]
    internal static partial nint g_value_dup_object(GValue* value);

    [LibraryImport(GObject)]
    internal static partial nint g_value_dup_boxed(GValue* value);

    [LibraryImport(GObject)]
    internal static partial nuint g_type_fundamental(nuint type);

    [LibraryImport(GObject)]
    internal static partial nint g_type_name(nuint type);

    [LibraryImport(GObject, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial nuint g_type_from_name(string name);

    [LibraryImport(GObject, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial void g_object_set_property(VipsOperationHandle obj, string name, GValue* value);

    [LibraryImport(GObject, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial void g_object_get_property(VipsOperationHandle obj, string name, GValue* value);

    [LibraryImport(GObject)]
    internal static partial void g_object_unref(nint obj);

    // ---- GLib ----

    [LibraryImport(GLib)]
    internal static partial void g_free(nint memory);

    /// <summary>Routes one GLib log domain (libvips logs as "VIPS") to a callback instead of stderr.</summary>
    [LibraryImport(GLib, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial uint g_log_set_handler(
        string logDomain, int logLevels, delegate* unmanaged[Cdecl]<nint, int, nint, nint, void> logFunc, nint userData);
}

/// <summary>A GValue: the GType then two 8-byte data words (24 bytes). Zero it, g_value_init, and always g_value_unset.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct GValue
{
    public nuint GType;
    public ulong Data0;
    public ulong Data1;
}

/// <summary>Fundamental GType ids (G_TYPE_MAKE_FUNDAMENTAL(n) = n &lt;&lt; 2).</summary>
internal static class GTypes
{
    public const nuint Boolean = 5 << 2;
    public const nuint Int = 6 << 2;
    public const nuint UInt = 7 << 2;
    public const nuint Long = 8 << 2;
    public const nuint ULong = 9 << 2;
    public const nuint Int64 = 10 << 2;
    public const nuint UInt64 = 11 << 2;
    public const nuint Enum = 12 << 2;
    public const nuint Flags = 13 << 2;
    public const nuint Float = 14 << 2;
    public const nuint Double = 15 << 2;
    public const nuint String = 16 << 2;
    public const nuint Boxed = 18 << 2;
    public const nuint Object = 20 << 2;
}
