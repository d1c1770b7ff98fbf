using System.Runtime.InteropServices;
using Trove.Application.Ports;
using Trove.Imaging.Vips.Native;

namespace Trove.Imaging.Vips;

/// <summary>
/// One reference to an immutable libvips image (a lazy pipeline or pixels in memory). Operations return new images;
/// dispose each one. Instances are not shared between threads by Trove, but libvips images themselves are thread-safe.
/// </summary>
public sealed unsafe class VipsImage : IDisposable
{
    internal VipsImage(VipsImageHandle handle) => Handle = handle;

    internal VipsImageHandle Handle { get; }

    public int Width => NativeMethods.vips_image_get_width(Handle);

    public int Height => NativeMethods.vips_image_get_height(Handle);

    public int Bands => NativeMethods.vips_image_get_bands(Handle);

    public bool HasAlpha => NativeMethods.vips_image_hasalpha(Handle) != 0;

    /// <summary>Number of pages/frames ("n-pages" metadata; 1 when absent).</summary>
    public int PageCount => NativeMethods.vips_image_get_n_pages(Handle);

    /// <summary>Height of one page ("page-height" when it divides the height, else the height).</summary>
    public int PageHeight => NativeMethods.vips_image_get_page_height(Handle);

    /// <summary>libvips interpretation nick: srgb, b-w, cmyk, rgb16, grey16, multiband…</summary>
    public string Interpretation => EnumNick(NativeMethods.vips_interpretation_get_type(), NativeMethods.vips_image_get_interpretation(Handle));

    /// <summary>Band format nick: uchar, ushort, float…</summary>
    public string BandFormat => EnumNick(NativeMethods.vips_band_format_get_type(), NativeMethods.vips_image_get_format(Handle));

    /// <summary>Wraps 8-bit pixels (1 = gray, 2 = gray + alpha, 3 = sRGB, 4 = sRGB + alpha); the data is copied.</summary>
    public static VipsImage FromPixels(RgbPixels pixels)
    {
        ArgumentNullException.ThrowIfNull(pixels);
        if (pixels.Width <= 0 || pixels.Height <= 0 || pixels.Bands is < 1 or > 4)
        {
            throw new ArgumentException($"Invalid pixel buffer: {pixels.Width}×{pixels.Height}×{pixels.Bands}.", nameof(pixels));
        }

        var expected = (long)pixels.Width * pixels.Height * pixels.Bands;
        if (pixels.Data.Length != expected)
        {
            throw new ArgumentException(
                $"Pixel buffer holds {pixels.Data.Length} bytes; {pixels.Width}×{pixels.Height}×{pixels.Bands} needs {expected}.", nameof(pixels));
        }

        VipsRuntime.EnsureInitialised();
        VipsImageHandle handle;
        fixed (byte* data = pixels.Data)
        {
            handle = NativeMethods.vips_image_new_from_memory_copy(data, (nuint)pixels.Data.Length, pixels.Width, pixels.Height, pixels.Bands, 0);
        }

        if (handle.IsInvalid)
        {
            handle.Dispose();
            throw VipsException.FromErrorBuffer("new image from memory");
        }

        using var raw = new VipsImage(handle);
        return raw.Call("copy", new VipsOption("interpretation", pixels.Bands <= 2 ? "b-w" : "srgb"));
    }

    /// <summary>Opens a file with the loader libvips picks for it (header now, pixels on demand).</summary>
    /// <param name="sequential">Top-to-bottom access only (cheaper; enough for one pass such as a save).</param>
    public static VipsImage FromFile(string path, bool sequential = false)
    {
        ArgumentNullException.ThrowIfNull(path);
        VipsRuntime.EnsureInitialised();
        var loader = FindLoader(path) ?? throw VipsException.FromErrorBuffer($"load {Path.GetFileName(path)}");
        return Load(path, loader, sequential ? "sequential" : "random", failOnTruncated: false);
    }

    /// <summary>An integer metadata field (e.g. "orientation"), or null when the image has none.</summary>
    public int? GetInt(string name)
    {
        if (!HasField(name))
        {
            return null;
        }

        if (NativeMethods.vips_image_get_int(Handle, name, out var value) != 0)
        {
            VipsException.ClearErrorBuffer();
            return null;
        }

        return value;
    }

    public bool HasField(string name) => NativeMethods.vips_image_get_typeof(Handle, name) != 0;

    /// <summary>A copy of this image with an integer metadata field set (e.g. "orientation" before a JPEG save).</summary>
    public VipsImage WithInt(string name, int value)
    {
        // "copy" is never cached, so the new image is ours alone and safe to modify.
        var copy = Call("copy");
        NativeMethods.vips_image_set_int(copy.Handle, name, value);
        return copy;
    }

    /// <summary>Converts to another interpretation (srgb, b-w, cmyk, rgb16, grey16…).</summary>
    public VipsImage Colourspace(string interpretation) => Call("colourspace", new VipsOption("space", interpretation));

    /// <summary>Runs any libvips operation whose image input is called "in" and whose result is "out".</summary>
    public VipsImage Call(string operation, params ReadOnlySpan<VipsOption> options) => VipsOperation.Run(operation, this, options);

    /// <summary>Writes the image with the saver libvips picks from the file suffix (.jpg, .png, .webp, .tif, .gif…).</summary>
    public void Save(string path, params ReadOnlySpan<VipsOption> options)
    {
        ArgumentNullException.ThrowIfNull(path);
        var typeName = NativeMethods.vips_foreign_find_save(path);
        if (typeName == 0)
        {
            throw VipsException.FromErrorBuffer($"save {Path.GetFileName(path)}");
        }

        using var operation = VipsOperation.New(NicknameOf(typeName));
        operation.Set("in", this);
        operation.Set("filename", path);
        foreach (var option in options)
        {
            operation.Set(option.Name, option.Value);
        }

        operation.Build($"save {Path.GetFileName(path)}");
    }

    /// <summary>Computes the pixels (8-bit images only) into an <see cref="RgbPixels"/>.</summary>
    public RgbPixels ToPixels()
    {
        if (BandFormat != "uchar")
        {
            throw new InvalidOperationException($"ToPixels needs 8-bit pixels; this image is {BandFormat}.");
        }

        return new RgbPixels(Width, Height, Bands, WriteToMemory(CancellationToken.None));
    }

    public void Dispose() => Handle.Dispose();

    // ---- internal: used by the engine ----

    /// <summary>The loader type name libvips picks for the file (from its bytes), or null (error left in the buffer).</summary>
    internal static string? FindLoader(string path)
    {
        var typeName = NativeMethods.vips_foreign_find_load(path);
        return typeName == 0 ? null : NicknameOf(typeName);
    }

    /// <summary>Runs a loader operation: only the header is read until pixels are asked for.</summary>
    /// <param name="shrink">JPEG only: decode at 1/2, 1/4 or 1/8 of the size (libjpeg's DCT scaling).</param>
    internal static VipsImage Load(string path, string loader, string access, bool failOnTruncated, int shrink = 1)
    {
        using var operation = VipsOperation.New(loader);
        if (operation.IsBlocked)
        {
            throw new VipsException($"load {Path.GetFileName(path)}", $"only the {loader} loader would read it, and it is blocked for untrusted input");
        }

        operation.Set("filename", path);
        operation.Set("access", access);
        if (failOnTruncated)
        {
            operation.Set("fail-on", "truncated");
        }

        if (shrink > 1)
        {
            operation.Set("shrink", shrink);
        }

        operation.Build($"{loader} {Path.GetFileName(path)}");
        return operation.GetImage("out");
    }

    /// <summary>Decodes the whole pipeline into memory, so later steps read it instead of recomputing it.</summary>
    internal VipsImage CopyMemory(CancellationToken ct) => Compute("copy to memory", static target =>
    {
        var handle = NativeMethods.vips_image_copy_memory(target.Handle);
        if (handle.IsInvalid)
        {
            handle.Dispose();
            throw VipsException.FromErrorBuffer("copy to memory");
        }

        return new VipsImage(handle);
    }, ct);

    /// <summary>Computes the pixels into a managed array (row-major, interleaved bands).</summary>
    internal byte[] WriteToMemory(CancellationToken ct) => Compute("write to memory", static target =>
    {
        using var memory = NativeMethods.vips_image_write_to_memory(target.Handle, out var size);
        if (memory.IsInvalid)
        {
            throw VipsException.FromErrorBuffer("write to memory");
        }

        var bytes = new byte[checked((int)size)];
        Marshal.Copy(memory.DangerousGetHandle(), bytes, 0, bytes.Length);
        return bytes;
    }, ct);

    /// <summary>Runs a *save_buffer operation (e.g. "webpsave_buffer") and returns the encoded bytes.</summary>
    internal byte[] SaveToBuffer(string saver, CancellationToken ct, params VipsOption[] options) => Compute(saver, target =>
    {
        using var operation = VipsOperation.New(saver);
        operation.Set("in", target);
        foreach (var option in options)
        {
            operation.Set(option.Name, option.Value);
        }

        operation.Build(saver);
        return operation.GetBlobBytes("buffer");
    }, ct);

    /// <summary>
    /// Runs a step that computes pixels. While it runs, cancelling <paramref name="ct"/> sets libvips' kill flag on a
    /// private copy of this image (the "copy" operation is never cached, so no other caller shares it), which makes
    /// the evaluation stop; the call then throws <see cref="OperationCanceledException"/>.
    /// </summary>
    internal T Compute<T>(string context, Func<VipsImage, T> work, CancellationToken ct)
    {
        ct.ThrowIfCancellationRequested();
        if (!ct.CanBeCanceled)
        {
            return work(this);
        }

        using var target = Call("copy");
        T result;
        using (ct.Register(static state => ((VipsImage)state!).SetKill(true), target))
        {
            try
            {
                result = work(target);
            }
            catch (VipsException) when (ct.IsCancellationRequested)
            {
                throw new OperationCanceledException($"{context} was cancelled.", ct);
            }
        }

        if (ct.IsCancellationRequested)
        {
            (result as IDisposable)?.Dispose();
            ct.ThrowIfCancellationRequested();
        }

        return result;
    }

    /// <summary>Sets libvips' kill flag: any computation reading this image stops with an error.</summary>
    internal void SetKill(bool kill) => NativeMethods.vips_image_set_kill(Handle, kill ? 1 : 0);

    internal static string NicknameOf(nint typeName)
    {
        var name = Marshal.PtrToStringUTF8(typeName) ?? string.Empty;
        var type = NativeMethods.g_type_from_name(name);
        var nickname = type == 0 ? 0 : NativeMethods.vips_nickname_find(type);
        return nickname == 0 ? name : Marshal.PtrToStringUTF8(nickname) ?? name;
    }

    private static string EnumNick(nuint enumType, int value) =>
        Marshal.PtrToStringUTF8(NativeMethods.vips_enum_nick(enumType, value)) ?? value.ToString(System.Globalization.CultureInfo.InvariantCulture);
}
