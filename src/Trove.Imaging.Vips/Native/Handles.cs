using Microsoft.Win32.SafeHandles;

namespace Trove.Imaging.Vips.Native;

/// <summary>Owns one reference to a VipsImage (released with g_object_unref).</summary>
internal sealed class VipsImageHandle : SafeHandleZeroOrMinusOneIsInvalid
{
    public VipsImageHandle()
        : base(ownsHandle: true)
    {
    }

    internal VipsImageHandle(nint reference)
        : base(ownsHandle: true) => SetHandle(reference);

    protected override bool ReleaseHandle()
    {
        NativeMethods.g_object_unref(handle);
        return true;
    }
}

/// <summary>Owns one reference to a VipsOperation (released with g_object_unref).</summary>
internal sealed class VipsOperationHandle : SafeHandleZeroOrMinusOneIsInvalid
{
    public VipsOperationHandle()
        : base(ownsHandle: true)
    {
    }

    protected override bool ReleaseHandle()
    {
        NativeMethods.g_object_unref(handle);
        return true;
    }
}

/// <summary>Owns one reference to a VipsBlob (a VipsArea; released with vips_area_unref).</summary>
internal sealed class VipsBlobHandle : SafeHandleZeroOrMinusOneIsInvalid
{
    public VipsBlobHandle()
        : base(ownsHandle: true)
    {
    }

    internal VipsBlobHandle(nint reference)
        : base(ownsHandle: true) => SetHandle(reference);

    protected override bool ReleaseHandle()
    {
        NativeMethods.vips_area_unref(handle);
        return true;
    }
}

/// <summary>Memory allocated by GLib (released with g_free).</summary>
internal sealed class GMemoryHandle : SafeHandleZeroOrMinusOneIsInvalid
{
    public GMemoryHandle()
        : base(ownsHandle: true)
    {
    }

    internal GMemoryHandle(nint memory)
        : base(ownsHandle: true) => SetHandle(memory);

    protected override bool ReleaseHandle()
    {
        NativeMethods.g_free(handle);
        return true;
    }
}
