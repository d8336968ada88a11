using System.Diagnostics;

namespace OrleansVncCluster.AbiquoSimulator;

/// <summary>Entry point of the Abiquo API simulator.</summary>
public static class Program
{
    /// <summary>Runs the simulator until Ctrl+C or SIGTERM.</summary>
    public static async Task<int> Main(string[] args)
    {
        var settings = SimulatorCommandLine.Parse(args, Environment.GetEnvironmentVariable, out var problem);
        if (settings is null)
        {
            var help = args.Any(a => a is "-h" or "--help");
            (help ? Console.Out : Console.Error).WriteLine(help ? problem : $"abiquo-simulator: {problem}");
            return help ? 0 : 1;
        }

        var started = Stopwatch.StartNew();
        await using var host = await SimulatorHost.StartAsync(settings);
        var counts = host.Simulator.World.Counts();
        var passwordSource = args.Any(a => a.StartsWith("--password-file", StringComparison.Ordinal)) ? "from --password-file"
            : Environment.GetEnvironmentVariable(SimulatorCommandLine.PasswordVariable) is { Length: > 0 } ? $"from ${SimulatorCommandLine.PasswordVariable}"
            : $"the default {SimulatorCommandLine.DefaultPassword}";
        Console.WriteLine($"abiquo-simulator: {counts.Enterprises} enterprises, {counts.Vms} VMs ({counts.Deployed} with a console), seed {counts.Seed}, ready in {started.ElapsedMilliseconds} ms");
        Console.WriteLine($"abiquo-simulator: user {settings.User} (cloud admin) and {settings.NonAdminUser} (not admin), password {passwordSource}");
        foreach (var address in host.Addresses)
        {
            Console.WriteLine($"abiquo-simulator: Abiquo API at {address}/api, admin API at {address}/_sim");
        }

        await host.WaitForShutdownAsync();
        return 0;
    }
}
