using System.Globalization;

namespace OrleansVncCluster.Benchmarks.Peers;

/// <summary>
/// What Linux says about a process tree: resident memory, CPU time, open descriptors. Peers that fork per session
/// (websockify, socat) are measured as their whole tree, so they are compared on the same footing as one process.
/// </summary>
internal static class ProcFs
{
    /// <summary>Clock ticks per second of /proc/PID/stat times (USER_HZ; 100 on every Linux the bench runs on).</summary>
    private const double TicksPerSecond = 100;

    /// <summary>One process identity: a PID plus its start time, so a reused PID is never mistaken for ours.</summary>
    public readonly record struct ProcessId(int Pid, long StartTicks);

    public static bool IsAlive(ProcessId process) => TryReadStat(process.Pid, out var stat) && stat.StartTicks == process.StartTicks;

    public static ProcessId? Identify(int pid) => TryReadStat(pid, out var stat) ? new ProcessId(pid, stat.StartTicks) : null;

    /// <summary>The process and all its descendants, as a snapshot.</summary>
    public static List<ProcessId> Tree(int root)
    {
        var children = new Dictionary<int, List<int>>();
        var starts = new Dictionary<int, long>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out var pid) || !TryReadStat(pid, out var stat))
            {
                continue;
            }

            starts[pid] = stat.StartTicks;
            if (!children.TryGetValue(stat.ParentPid, out var list))
            {
                children[stat.ParentPid] = list = [];
            }

            list.Add(pid);
        }

        var result = new List<ProcessId>();
        if (!starts.TryGetValue(root, out var rootStart))
        {
            return result;
        }

        var pending = new Stack<int>();
        pending.Push(root);
        result.Add(new ProcessId(root, rootStart));
        while (pending.Count > 0)
        {
            if (!children.TryGetValue(pending.Pop(), out var kids))
            {
                continue;
            }

            foreach (var kid in kids)
            {
                result.Add(new ProcessId(kid, starts[kid]));
                pending.Push(kid);
            }
        }

        return result;
    }

    /// <summary>Resident set size (VmRSS) in KiB, 0 when the process is gone.</summary>
    public static long RssKiB(int pid) => ReadKiB($"/proc/{pid}/status", "VmRSS:");

    /// <summary>Proportional set size in KiB: shared pages split between sharers, the fair sum for forked trees.</summary>
    public static long PssKiB(int pid) => ReadKiB($"/proc/{pid}/smaps_rollup", "Pss:");

    /// <summary>Sum of VmRSS over the tree rooted at <paramref name="root"/>.</summary>
    public static long TreeRssKiB(int root) => Tree(root).Sum(p => RssKiB(p.Pid));

    /// <summary>Sum of Pss over the tree rooted at <paramref name="root"/>.</summary>
    public static long TreePssKiB(int root) => Tree(root).Sum(p => PssKiB(p.Pid));

    /// <summary>Processes in the tree.</summary>
    public static int TreeSize(int root) => Tree(root).Count;

    /// <summary>User plus system CPU seconds of the tree, including reaped children (cutime/cstime).</summary>
    public static double TreeCpuSeconds(int root) =>
        Tree(root).Sum(p => TryReadStat(p.Pid, out var stat) ? stat.CpuTicks : 0) / TicksPerSecond;

    /// <summary>Open file descriptors of one process.</summary>
    public static int FdCount(int pid)
    {
        try
        {
            return Directory.GetFileSystemEntries($"/proc/{pid}/fd").Length;
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            return 0;
        }
    }

    /// <summary>Open file descriptors of the whole tree.</summary>
    public static int TreeFdCount(int root) => Tree(root).Sum(p => FdCount(p.Pid));

    private static long ReadKiB(string file, string key)
    {
        try
        {
            foreach (var line in File.ReadLines(file))
            {
                if (line.StartsWith(key, StringComparison.Ordinal))
                {
                    var digits = line.AsSpan(key.Length).Trim();
                    var space = digits.IndexOf(' ');
                    return long.Parse(space < 0 ? digits : digits[..space], CultureInfo.InvariantCulture);
                }
            }
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            // The process exited between listing and reading.
        }

        return 0;
    }

    private readonly record struct Stat(int ParentPid, long CpuTicks, long StartTicks);

    private static bool TryReadStat(int pid, out Stat stat)
    {
        stat = default;
        string text;
        try
        {
            text = File.ReadAllText($"/proc/{pid}/stat");
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            return false;
        }

        // The command name is in parentheses and may hold spaces; fields are counted after its closing parenthesis.
        var close = text.LastIndexOf(')');
        if (close < 0)
        {
            return false;
        }

        var fields = text[(close + 2)..].Split(' ');
        // fields[0] is field 3 (state): ppid = field 4, utime..cstime = fields 14-17, starttime = field 22.
        if (fields.Length < 20)
        {
            return false;
        }

        long Field(int number) => long.Parse(fields[number - 3], CultureInfo.InvariantCulture);
        stat = new Stat((int)Field(4), Field(14) + Field(15) + Field(16) + Field(17), Field(22));
        return true;
    }
}
