using System.Globalization;

namespace Trove.Bench;

/// <summary>
/// CPU time on this machine between two readings, split into this process (the server), its waited-for children (wrk)
/// and everything else — on a shared 2-core machine, the "everything else" says how noisy a run was. Linux /proc only.
/// </summary>
internal readonly record struct CpuReading(long MachineBusy, long Self, long Children, DateTimeOffset At)
{
    private const double TicksPerSecond = 100; // USER_HZ

    public static CpuReading Take()
    {
        // cpu  user nice system idle iowait irq softirq steal guest guest_nice (guests are inside user/nice)
        var cpu = File.ReadLines("/proc/stat").First().Split(' ', StringSplitOptions.RemoveEmptyEntries);
        var v = cpu.Skip(1).Take(8).Select(x => long.Parse(x, CultureInfo.InvariantCulture)).ToArray();
        var busy = v[0] + v[1] + v[2] + v[5] + v[6] + v[7];

        // /proc/self/stat after the ")" closing the command: field 3 is the state, 14-17 utime stime cutime cstime.
        var stat = File.ReadAllText("/proc/self/stat");
        var f = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        long Field(int n) => long.Parse(f[n - 3], CultureInfo.InvariantCulture);
        return new CpuReading(busy, Field(14) + Field(15), Field(16) + Field(17), DateTimeOffset.UtcNow);
    }

    /// <summary>Average cores used by the server, wrk and other processes from <paramref name="start"/> to this reading.</summary>
    public (double Server, double Wrk, double Others) CoresSince(CpuReading start)
    {
        var seconds = Math.Max(0.001, (At - start.At).TotalSeconds) * TicksPerSecond;
        var server = (Self - start.Self) / seconds;
        var wrk = (Children - start.Children) / seconds;
        var others = Math.Max(0, ((MachineBusy - start.MachineBusy) / seconds) - server - wrk);
        return (server, wrk, others);
    }
}
