using System.Diagnostics;

namespace OrleansVncCluster.Relay.Cli;

/// <summary>websockify's -D for the legacy init scripts: start a detached copy of this process and return.</summary>
/// <remarks>.NET cannot fork, so the copy is started through setsid with standard streams on /dev/null. Under systemd
/// or Kubernetes, run in the foreground instead (the shipped units do).</remarks>
internal static class Daemon
{
    public static int Detach(IEnumerable<string> args)
    {
        var self = Environment.ProcessPath ?? throw new InvalidOperationException("cannot find this executable's path to detach");
        var start = new ProcessStartInfo("/bin/sh")
        {
            UseShellExecute = false,
        };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add("exec setsid \"$0\" \"$@\" </dev/null >/dev/null 2>&1 &");
        start.ArgumentList.Add(self);
        foreach (var arg in args.Where(a => a is not "-D" and not "--daemon"))
        {
            start.ArgumentList.Add(arg);
        }

        using var shell = Process.Start(start) ?? throw new InvalidOperationException("could not start the detached relay");
        shell.WaitForExit();
        return shell.ExitCode;
    }
}
