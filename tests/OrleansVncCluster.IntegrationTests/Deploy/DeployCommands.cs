using OrleansVncCluster.IntegrationTests.Infrastructure;

namespace OrleansVncCluster.IntegrationTests.Deploy;

/// <summary>What a finished command printed and returned.</summary>
public sealed record CommandResult(int ExitCode, string Output);

/// <summary>The offline checks of the deployment files: short-lived commands run to completion.</summary>
public static class DeployCommands
{
    private static readonly SemaphoreSlim ValidatorInstall = new(1, 1);

    /// <summary>haproxy from Debian's package (/usr/sbin may be missing from a non-root PATH).</summary>
    public static string Haproxy => File.Exists("/usr/sbin/haproxy") ? "/usr/sbin/haproxy" : "haproxy";

    /// <summary>The shipped HAProxy configuration.</summary>
    public static string HaproxyConfig => Path.Combine(Repo.Root, "haproxy", "haproxy.cfg");

    /// <summary>tools/k8s-validate, the schema validator for k8s/.</summary>
    public static string ValidatorDirectory => Path.Combine(Repo.Root, "tools", "k8s-validate");

    /// <summary>
    /// Runs a command to its end. Environment values of null remove a variable, so a test can be sure one is
    /// unset whatever the shell that started the tests exported.
    /// </summary>
    public static async Task<CommandResult> RunAsync(
        string name, string file, IEnumerable<string> args, IDictionary<string, string?>? environment = null, TimeSpan? timeout = null)
    {
        var limit = timeout ?? TimeSpan.FromSeconds(60);
        await using var process = ManagedProcess.Start(name, file, args, environment);
        if (!await process.WaitForExitAsync(limit))
        {
            throw new TimeoutException($"{name} did not finish within {limit.TotalSeconds:F0} s. Output:\n{process.Tail()}");
        }

        return new CommandResult(process.ExitCode, process.Output);
    }

    /// <summary>haproxy -c on the shipped config with exactly the given HAProxy variables.</summary>
    public static Task<CommandResult> CheckHaproxyConfigAsync(IDictionary<string, string?> environment) =>
        RunAsync("haproxy-check", Haproxy, ["-c", "-f", HaproxyConfig], IsolatedHaproxyEnvironment(environment));

    /// <summary>Runs the k8s validator on the given targets (none: the repository's k8s/).</summary>
    public static async Task<CommandResult> ValidateManifestsAsync(params string[] targets)
    {
        await EnsureValidatorInstalledAsync();
        return await RunAsync("k8s-validate", "node", [Path.Combine(ValidatorDirectory, "validate.mjs"), .. targets]);
    }

    /// <summary>
    /// npm ci into tools/k8s-validate/node_modules when it is missing or older than the lock file, the same rule
    /// as mk/deploy.mk, so `dotnet test` alone works too.
    /// </summary>
    public static async Task EnsureValidatorInstalledAsync()
    {
        await ValidatorInstall.WaitAsync();
        try
        {
            var stamp = Path.Combine(ValidatorDirectory, "node_modules", ".package-lock.json");
            var lockFile = Path.Combine(ValidatorDirectory, "package-lock.json");
            if (File.Exists(stamp) && File.GetLastWriteTimeUtc(stamp) >= File.GetLastWriteTimeUtc(lockFile))
            {
                return;
            }

            var install = await RunAsync("npm-ci", "npm", ["ci", "--prefix", ValidatorDirectory, "--no-audit", "--no-fund"], timeout: TimeSpan.FromMinutes(5));
            Assert.True(install.ExitCode == 0, $"npm ci in tools/k8s-validate failed:\n{install.Output}");
        }
        finally
        {
            ValidatorInstall.Release();
        }
    }

    /// <summary>
    /// The given variables, with every other HAProxy-related one of the test runner removed: a stats password or a
    /// Kubernetes marker exported in the developer's shell must not leak into a check.
    /// </summary>
    public static Dictionary<string, string?> IsolatedHaproxyEnvironment(IDictionary<string, string?> environment)
    {
        var result = new Dictionary<string, string?>(StringComparer.Ordinal);
        foreach (var key in Environment.GetEnvironmentVariables().Keys.Cast<string>())
        {
            if (key.StartsWith("HAPROXY_", StringComparison.Ordinal) || key.StartsWith("RELAY", StringComparison.Ordinal) || key == "KUBERNETES_SERVICE_HOST")
            {
                result[key] = null;
            }
        }

        foreach (var (key, value) in environment)
        {
            result[key] = value;
        }

        return result;
    }
}
