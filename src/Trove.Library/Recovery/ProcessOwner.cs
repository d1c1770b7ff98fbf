using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;

namespace Trove.Library.Recovery;

/// <summary>Whether the process that made a temporary file (or a writer marker) can still be using it.</summary>
public enum OwnerStatus
{
    /// <summary>The owner runs on this machine right now: its files are in use.</summary>
    Alive,

    /// <summary>The owner was on this machine and is gone: what it left is debris that anyone may sweep.</summary>
    Dead,

    /// <summary>
    /// Cannot tell: no owner in the name (made by an older Trove), or a process on another machine sharing the
    /// folder. Such files are only judged by age.
    /// </summary>
    Unknown,
}

/// <summary>
/// Who made a temporary file: the process id, the process's start time (so a recycled pid is not mistaken for
/// the owner) and a short hash naming the machine and pid namespace (so a process on another machine or in
/// another container sharing the library folder is never judged by this machine's process table).
/// Written into every temporary name as <c>PID_START_HOST</c> (see docs/library-format.md, "Temporary files").
/// </summary>
public readonly partial record struct ProcessOwner(int Pid, long? StartTicks, string? Host)
{
    /// <summary>Files named by an unknown owner (or another machine's) are debris once they are this old.</summary>
    public static readonly TimeSpan UnknownOwnerAge = TimeSpan.FromHours(24);

    private static readonly Lazy<string> ThisHost = new(ComputeHost);

    private static readonly Lazy<ProcessOwner> CurrentOwner = new(() =>
    {
        var pid = Environment.ProcessId;
        return new ProcessOwner(pid, ReadStartTicks(pid), ThisHost.Value);
    });

    /// <summary>This process.</summary>
    public static ProcessOwner Current => CurrentOwner.Value;

    /// <summary>The token written into names: <c>PID_START_HOST</c>, or <c>PID</c> where the start time is unknown.</summary>
    public string Token => StartTicks is { } start && Host is { } host
        ? string.Create(CultureInfo.InvariantCulture, $"{Pid}_{start}_{host}")
        : Pid.ToString(CultureInfo.InvariantCulture);

    /// <summary>Reads an owner token (<c>PID</c> or <c>PID_START_HOST</c>).</summary>
    public static ProcessOwner? ParseToken(string token)
    {
        var m = TokenPattern().Match(token);
        return m.Success ? FromMatch(m) : null;
    }

    /// <summary>
    /// The owner named in a temporary file or folder name made by Trove: <c>.NAME.trove-tmp-OWNER-RANDOM</c>
    /// (atomic writes), <c>import-OWNER-RANDOM.trove-tmp</c>, <c>zip-OWNER-RANDOM.trove-tmp</c>,
    /// <c>upload-OWNER-RANDOM</c>. Null when the name carries none.
    /// </summary>
    public static ProcessOwner? FromTempName(string fileName)
    {
        var m = TempNamePattern().Match(fileName);
        return m.Success ? FromMatch(m) : null;
    }

    /// <summary>Whether this owner is running now, as far as this machine can tell.</summary>
    public OwnerStatus Status()
    {
        if (Host is { } host && !string.Equals(host, ThisHost.Value, StringComparison.Ordinal))
        {
            return OwnerStatus.Unknown;
        }

        if (Pid == Environment.ProcessId)
        {
            return StartTicks is null || StartTicks == Current.StartTicks ? OwnerStatus.Alive : OwnerStatus.Dead;
        }

        if (OperatingSystem.IsLinux())
        {
            var start = ReadStartTicks(Pid);
            if (start is null)
            {
                return Directory.Exists(ProcPath(Pid)) ? OwnerStatus.Alive : OwnerStatus.Dead;
            }

            return StartTicks is null || StartTicks == start ? OwnerStatus.Alive : OwnerStatus.Dead;
        }

        try
        {
            using var process = System.Diagnostics.Process.GetProcessById(Pid);
            return process.HasExited ? OwnerStatus.Dead : OwnerStatus.Alive;
        }
        catch (ArgumentException)
        {
            return OwnerStatus.Dead;
        }
        catch (InvalidOperationException)
        {
            return OwnerStatus.Dead;
        }
    }

    /// <summary>
    /// Whether a Trove temporary file or folder is left over. Its owner is dead: yes. Alive: no, it is in use. A
    /// process on another machine: only once older than <see cref="UnknownOwnerAge"/>. No owner in the name (an
    /// older Trove's upload folder): once older than <paramref name="ownerlessAfter"/>.
    /// </summary>
    public static bool IsDebris(string fileName, DateTimeOffset lastWrite, DateTimeOffset now, TimeSpan ownerlessAfter)
    {
        if (FromTempName(fileName) is not { } owner)
        {
            return now - lastWrite > ownerlessAfter;
        }

        return owner.Status() switch
        {
            OwnerStatus.Dead => true,
            OwnerStatus.Alive => false,
            _ => now - lastWrite > UnknownOwnerAge,
        };
    }

    public override string ToString() => Token;

    private static ProcessOwner FromMatch(Match m)
    {
        var pid = int.Parse(m.Groups["pid"].ValueSpan, CultureInfo.InvariantCulture);
        long? start = m.Groups["start"].Success ? long.Parse(m.Groups["start"].ValueSpan, CultureInfo.InvariantCulture) : null;
        var host = m.Groups["host"].Success ? m.Groups["host"].Value : null;
        return new ProcessOwner(pid, start, host);
    }

    private static string ProcPath(int pid) => "/proc/" + pid.ToString(CultureInfo.InvariantCulture);

    /// <summary>Field 22 of /proc/PID/stat: the start time in clock ticks after boot (null when not on Linux or gone).</summary>
    private static long? ReadStartTicks(int pid)
    {
        if (!OperatingSystem.IsLinux())
        {
            return null;
        }

        string stat;
        try
        {
            stat = File.ReadAllText(ProcPath(pid) + "/stat");
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }

        // "pid (comm) state ppid …": comm may hold spaces and parentheses, so fields are counted after the last ')'.
        var close = stat.LastIndexOf(')');
        if (close < 0)
        {
            return null;
        }

        var fields = stat[(close + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        return fields.Length > 19 && long.TryParse(fields[19], NumberStyles.None, CultureInfo.InvariantCulture, out var ticks) ? ticks : null;
    }

    /// <summary>8 hex characters naming this machine (machine-id, else host name) and pid namespace.</summary>
    private static string ComputeHost()
    {
        var machine = TryRead("/etc/machine-id") ?? TryRead("/var/lib/dbus/machine-id") ?? Environment.MachineName;
        var pidNamespace = OperatingSystem.IsLinux() ? TryReadLink("/proc/self/ns/pid") ?? string.Empty : string.Empty;
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(machine.Trim() + "\n" + pidNamespace)))[..8];
    }

    private static string? TryRead(string path)
    {
        try
        {
            var text = File.ReadAllText(path).Trim();
            return text.Length > 0 ? text : null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    private static string? TryReadLink(string path)
    {
        try
        {
            return new FileInfo(path).LinkTarget;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    [GeneratedRegex(@"^(?<pid>\d{1,10})(?:_(?<start>\d{1,20})_(?<host>[0-9a-f]{8}))?$", RegexOptions.CultureInvariant)]
    private static partial Regex TokenPattern();

    [GeneratedRegex(@"(?:\.trove-tmp-|^import-|^zip-|^upload-)(?<pid>\d{1,10})(?:_(?<start>\d{1,20})_(?<host>[0-9a-f]{8}))?-[0-9a-f]{8,32}", RegexOptions.CultureInvariant)]
    private static partial Regex TempNamePattern();
}
