using System.Runtime.InteropServices;
using Trove.Imaging.Vips.Native;

namespace Trove.Imaging.Vips;

/// <summary>A libvips call failed. <see cref="Exception.Message"/> is "context: what libvips said".</summary>
public sealed class VipsException : Exception
{
    public VipsException()
        : this("libvips", "unknown error")
    {
    }

    public VipsException(string message)
        : this("libvips", message)
    {
    }

    public VipsException(string message, Exception innerException)
        : base(message, innerException)
    {
        Context = "libvips";
        VipsMessage = message;
    }

    public VipsException(string context, string vipsMessage)
        : base($"{context}: {vipsMessage}")
    {
        Context = context;
        VipsMessage = vipsMessage;
    }

    /// <summary>What Trove was doing (e.g. "thumbnail photo.jpg").</summary>
    public string Context { get; }

    /// <summary>The text from libvips' error buffer (one line per libvips message, joined with "; ").</summary>
    public string VipsMessage { get; }

    /// <summary>
    /// The one place a libvips failure becomes an exception: takes (and clears) the libvips error buffer and puts
    /// <paramref name="context"/> in front of it. libvips' buffer is process-wide; copying and clearing happen under
    /// its own lock (<c>vips_error_buffer_copy</c>), so two failing threads never read each other's half-written text.
    /// </summary>
    internal static VipsException FromErrorBuffer(string context)
    {
        var text = string.Empty;
        using (var buffer = new GMemoryHandle(NativeMethods.vips_error_buffer_copy()))
        {
            if (!buffer.IsInvalid)
            {
                text = Marshal.PtrToStringUTF8(buffer.DangerousGetHandle()) ?? string.Empty;
            }
        }

        var lines = text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var message = lines.Length == 0 ? "unknown libvips error" : string.Join("; ", lines.Distinct());
        return new VipsException(context, message);
    }

    /// <summary>Drops whatever a tolerated failure left in libvips' error buffer.</summary>
    internal static void ClearErrorBuffer() => NativeMethods.vips_error_clear();
}
