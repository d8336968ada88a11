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
        var passwordSource = settings.PasswordGenerated ? $"generated into {WriteGeneratedPassword(settings.Password)}"
            : args.Any(a => a.StartsWith("--password-file", StringComparison.Ordinal)) ? "from --password-file"
            : $"from ${SimulatorCommandLine.PasswordVariable}";
        Console.WriteLine($"abiquo-simulator: {counts.Enterprises} enterprises, {counts.Vms} VMs ({counts.Deployed} with a console), seed {counts.Seed}, ready in {started.ElapsedMilliseconds} ms");
        Console.WriteLine($"abiquo-simulator: user {settings.User} (cloud admin) and {settings.NonAdminUser} (not admin), password {passwordSource}");
        foreach (var address in host.Addresses)
        {
            Console.WriteLine($"abiquo-simulator: Abiquo API at {address}/api, admin API at {address}/_sim");
        }

        await host.WaitForShutdownAsync();
        return 0;
    }

    /// <summary>Writes a generated password where only this user can read it, and returns the path (never the password).</summary>
    private static string WriteGeneratedPassword(string password)
    {
        var directory = Environment.GetEnvironmentVariable("XDG_RUNTIME_DIR") is { Length: > 0 } runtime ? runtime : Path.GetTempPath();
        var path = Path.Combine(directory, $"abiquo-simulator-{Environment.ProcessId}.password");
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        using (var file = new FileStream(path, options))
        using (var writer = new StreamWriter(file))
        {
            writer.Write(password);
        }

        return path;
    }
}
