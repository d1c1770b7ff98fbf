using System.Runtime.InteropServices;
using Trove.Imaging.Vips.Native;

namespace Trove.Imaging.Vips;

/// <summary>
/// One libvips operation driven without varargs: <c>vips_operation_new</c>, inputs set as GObject properties typed
/// from the operation's own GParamSpec, <c>vips_cache_operation_build</c>, outputs read back as properties.
/// Not thread-safe (one caller builds it); the images it produces are.
/// </summary>
internal sealed unsafe class VipsOperation : IDisposable
{
    /// <summary>Offset of <c>GType value_type</c> in GParamSpec: GTypeInstance (8), name (8), flags (4 + 4 padding).</summary>
    private const int ParamSpecValueTypeOffset = 24;

    /// <summary>VIPS_OPERATION_BLOCKED in VipsOperationFlags.</summary>
    private const int BlockedFlag = 32;

    private VipsOperationHandle _handle;
    private bool _built;

    private VipsOperation(string nickname, VipsOperationHandle handle)
    {
        Nickname = nickname;
        _handle = handle;
    }

    public string Nickname { get; }

    /// <summary>True when <c>vips_operation_block_set</c> (or untrusted blocking) has disabled this operation.</summary>
    public bool IsBlocked => (NativeMethods.vips_operation_get_flags(_handle) & BlockedFlag) != 0;

    public static VipsOperation New(string nickname)
    {
        var handle = NativeMethods.vips_operation_new(nickname);
        if (handle.IsInvalid)
        {
            handle.Dispose();
            throw VipsException.FromErrorBuffer(nickname);
        }

        return new VipsOperation(nickname, handle);
    }

    /// <summary>Runs <paramref name="nickname"/> with <paramref name="arguments"/> and returns its "out" image.</summary>
    public static VipsImage Run(string nickname, VipsImage input, params ReadOnlySpan<VipsOption> arguments) =>
        Run(nickname, "in", input, arguments);

    /// <summary>Runs <paramref name="nickname"/> with its image input named <paramref name="inputName"/>; returns "out".</summary>
    public static VipsImage Run(string nickname, string inputName, VipsImage input, params ReadOnlySpan<VipsOption> arguments)
    {
        using var operation = New(nickname);
        operation.Set(inputName, input);
        foreach (var argument in arguments)
        {
            operation.Set(argument.Name, argument.Value);
        }

        operation.Build(nickname);
        return operation.GetImage("out");
    }

    /// <summary>Sets one input. The value is converted to the argument's own GType (enums and flags accept nicks).</summary>
    public void Set(string name, object value)
    {
        ObjectDisposedException.ThrowIf(_handle.IsClosed, this);
        var type = ArgumentType(name);
        GValue gvalue = default;
        NativeMethods.g_value_init(&gvalue, type);
        try
        {
            Assign(&gvalue, type, name, value);
            NativeMethods.g_object_set_property(_handle, name, &gvalue);
        }
        finally
        {
            NativeMethods.g_value_unset(&gvalue);
        }
    }

    /// <summary>Builds the operation (or takes the cached equivalent). Throws with <paramref name="context"/> on failure.</summary>
    public void Build(string context)
    {
        if (_built)
        {
            throw new InvalidOperationException($"{Nickname} is already built.");
        }

        var built = NativeMethods.vips_cache_operation_build(_handle);
        if (built.IsInvalid)
        {
            built.Dispose();
            var error = VipsException.FromErrorBuffer(context);
            NativeMethods.vips_object_unref_outputs(_handle);
            throw error;
        }

        _handle.Dispose();
        _handle = built;
        _built = true;
    }

    /// <summary>An image output; the caller owns the returned image.</summary>
    public VipsImage GetImage(string name)
    {
        var reference = ReadOutput(name, &NativeMethods.g_value_dup_object);
        if (reference == 0)
        {
            throw new VipsException(Nickname, $"output '{name}' is not set");
        }

        return new VipsImage(new VipsImageHandle(reference));
    }

    /// <summary>A VipsBlob output (e.g. the "buffer" of a *save_buffer operation), copied into managed memory.</summary>
    public byte[] GetBlobBytes(string name)
    {
        var reference = ReadOutput(name, &NativeMethods.g_value_dup_boxed);
        using var blob = new VipsBlobHandle(reference);
        if (blob.IsInvalid)
        {
            throw new VipsException(Nickname, $"output '{name}' is not set");
        }

        var data = NativeMethods.vips_blob_get(blob, out var length);
        if (data == 0 || length == 0)
        {
            return [];
        }

        var bytes = new byte[checked((int)length)];
        Marshal.Copy(data, bytes, 0, bytes.Length);
        return bytes;
    }

    public void Dispose()
    {
        if (_handle.IsClosed)
        {
            return;
        }

        if (_built)
        {
            NativeMethods.vips_object_unref_outputs(_handle);
        }

        _handle.Dispose();
    }

    private nint ReadOutput(string name, delegate*<GValue*, nint> take)
    {
        if (!_built)
        {
            throw new InvalidOperationException($"{Nickname} is not built.");
        }

        var type = ArgumentType(name);
        GValue gvalue = default;
        NativeMethods.g_value_init(&gvalue, type);
        try
        {
            NativeMethods.g_object_get_property(_handle, name, &gvalue);
            return take(&gvalue);
        }
        finally
        {
            NativeMethods.g_value_unset(&gvalue);
        }
    }

    private nuint ArgumentType(string name)
    {
        if (NativeMethods.vips_object_get_argument(_handle, name, out var pspec, out _, out _) != 0 || pspec == 0)
        {
            throw VipsException.FromErrorBuffer($"{Nickname} argument '{name}'");
        }

        return *(nuint*)((byte*)pspec + ParamSpecValueTypeOffset);
    }

    private void Assign(GValue* gvalue, nuint type, string name, object value)
    {
        var fundamental = NativeMethods.g_type_fundamental(type);
        switch (fundamental)
        {
            case GTypes.Boolean:
                NativeMethods.g_value_set_boolean(gvalue, Convert.ToBoolean(value, null) ? 1 : 0);
                break;
            case GTypes.Int:
                NativeMethods.g_value_set_int(gvalue, Convert.ToInt32(value, null));
                break;
            case GTypes.UInt:
                NativeMethods.g_value_set_uint(gvalue, Convert.ToUInt32(value, null));
                break;
            case GTypes.Int64:
                NativeMethods.g_value_set_int64(gvalue, Convert.ToInt64(value, null));
                break;
            case GTypes.UInt64:
                NativeMethods.g_value_set_uint64(gvalue, Convert.ToUInt64(value, null));
                break;
            case GTypes.Float:
                NativeMethods.g_value_set_float(gvalue, Convert.ToSingle(value, null));
                break;
            case GTypes.Double:
                NativeMethods.g_value_set_double(gvalue, Convert.ToDouble(value, null));
                break;
            case GTypes.String:
                NativeMethods.g_value_set_string(gvalue, Convert.ToString(value, null) ?? string.Empty);
                break;
            case GTypes.Enum:
                NativeMethods.g_value_set_enum(gvalue, value is string nick ? EnumFromNick(type, name, nick) : Convert.ToInt32(value, null));
                break;
            case GTypes.Flags:
                NativeMethods.g_value_set_flags(gvalue, value is string flags ? (uint)FlagsFromNick(type, name, flags) : Convert.ToUInt32(value, null));
                break;
            case GTypes.Object when value is VipsImage image:
                NativeMethods.g_value_set_object(gvalue, image.Handle);
                break;
            case GTypes.Boxed when type == NativeMethods.vips_array_double_get_type():
                var doubles = value switch
                {
                    double[] array => array,
                    IEnumerable<double> sequence => [.. sequence],
                    _ => [Convert.ToDouble(value, null)],
                };
                fixed (double* p = doubles)
                {
                    NativeMethods.vips_value_set_array_double(gvalue, p, doubles.Length);
                }

                break;
            case GTypes.Boxed when type == NativeMethods.vips_array_int_get_type():
                var ints = value switch
                {
                    int[] array => array,
                    IEnumerable<int> sequence => [.. sequence],
                    _ => [Convert.ToInt32(value, null)],
                };
                fixed (int* p = ints)
                {
                    NativeMethods.vips_value_set_array_int(gvalue, p, ints.Length);
                }

                break;
            default:
                throw new ArgumentException(
                    $"{Nickname}: cannot set '{name}' of type {TypeName(type)} from {value.GetType().Name}.", nameof(value));
        }
    }

    private int EnumFromNick(nuint type, string name, string nick)
    {
        var value = NativeMethods.vips_enum_from_nick(Nickname, type, nick);
        return value >= 0 ? value : throw VipsException.FromErrorBuffer($"{Nickname} argument '{name}'");
    }

    private int FlagsFromNick(nuint type, string name, string nick)
    {
        var value = NativeMethods.vips_flags_from_nick(Nickname, type, nick);
        return value >= 0 ? value : throw VipsException.FromErrorBuffer($"{Nickname} argument '{name}'");
    }

    private static string TypeName(nuint type) => Marshal.PtrToStringUTF8(NativeMethods.g_type_name(type)) ?? type.ToString();
}

/// <summary>A named operation argument (e.g. <c>new VipsOption("Q", 85)</c>); enums take libvips nicks ("sequential").</summary>
public readonly record struct VipsOption(string Name, object Value);
