using System.Globalization;
using System.Runtime.Versioning;
using System.Text.RegularExpressions;
using OrleansVncCluster.IntegrationTests.Infrastructure;

namespace OrleansVncCluster.IntegrationTests.Deploy;

/// <summary>
/// deploy/install.sh into a scratch root, then `systemd-analyze verify --root` on what it installed: no running
/// systemd is needed, the ExecStart binaries exist (stubs standing in for the published ones), and the root carries a
/// copy of the host's stock units so the default dependencies (sysinit.target, ...) and Debian's haproxy.service resolve.
/// </summary>
[SupportedOSPlatform("linux")]
[Collection(MachineWide.Name)]
public sealed partial class SystemdInstallTests : IAsyncLifetime
{
    private readonly string _root = Repo.TempDirectory("sysroot");
    private readonly string _artifacts = Repo.TempDirectory("artifacts");

    private string InstallScript => Path.Combine(Repo.Root, "deploy", "install.sh");

    public async ValueTask InitializeAsync()
    {
        WriteStub(Path.Combine(_artifacts, "vnc-relay", "vnc-relay"));
        WriteStub(Path.Combine(_artifacts, "abiquo-simulator", "abiquo-simulator"));
        var install = await InstallAsync();
        Assert.True(install.ExitCode == 0, $"install.sh failed:\n{install.Output}");
    }

    [Fact]
    public async Task InstalledUnits_PassSystemdAnalyzeVerify_WithNoOutput()
    {
        var stockUnits = Path.Combine(_root, "usr", "lib", "systemd");
        Directory.CreateDirectory(stockUnits);
        var copy = await DeployCommands.RunAsync("cp-units", "cp", ["-a", "/usr/lib/systemd/system", stockUnits]);
        Assert.Equal(0, copy.ExitCode);
        WriteStub(Path.Combine(_root, "usr", "sbin", "haproxy"));
        WriteStub(Path.Combine(_root, "bin", "kill"));
        WriteStub(Path.Combine(_root, "bin", "sh"));

        var verify = await DeployCommands.RunAsync("systemd-analyze", "systemd-analyze",
            ["verify", $"--root={_root}", "vnc-relay.service", "abiquo-simulator.service", "haproxy.service"]);

        // verify exits 0 on unknown keys and other mistakes it only prints: any output is a failure.
        Assert.True(verify.ExitCode == 0 && verify.Output.Trim().Length == 0, $"systemd-analyze verify said:\n{verify.Output}");
    }

    [Fact]
    public async Task NodeUnit_IsHardened_ExposureAtMostTwo()
    {
        var security = await DeployCommands.RunAsync("systemd-analyze", "systemd-analyze",
            ["security", "--offline=yes", $"--root={_root}", "--no-pager", "vnc-relay.service"]);

        var match = ExposureLevel().Match(security.Output);
        Assert.True(match.Success, $"no exposure level in:\n{security.Output}");
        var exposure = double.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
        Assert.True(exposure <= 2.0, $"vnc-relay.service exposure {exposure} is above 2.0:\n{security.Output}");
    }

    [Fact]
    public async Task NodeUnit_NeverDeniesWriteExecuteMemory()
    {
        var unit = await File.ReadAllTextAsync(Path.Combine(_root, "etc", "systemd", "system", "vnc-relay.service"));

        // The .NET JIT writes code pages and then executes them.
        Assert.DoesNotMatch(new Regex("^MemoryDenyWriteExecute=", RegexOptions.Multiline), unit);
        Assert.Contains("Type=notify", unit, StringComparison.Ordinal);
        Assert.Contains("LoadCredential=redis-connection:", unit, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SecondInstall_KeepsTheOperatorsSecretsAndSettings()
    {
        var envFile = Path.Combine(_root, "etc", "haproxy", "vnc-relay.env");
        var token = Path.Combine(_root, "etc", "credstore", "vnc-relay.admin-token");
        var nodeEnv = Path.Combine(_root, "etc", "vnc-relay", "vnc-relay.env");
        await File.AppendAllTextAsync(nodeEnv, "Orleans__SiloName=edited-by-operator\n");
        var firstEnv = await File.ReadAllTextAsync(envFile);
        var firstToken = await File.ReadAllTextAsync(token);

        var again = await InstallAsync();

        Assert.True(again.ExitCode == 0, again.Output);
        Assert.Equal(firstEnv, await File.ReadAllTextAsync(envFile));
        Assert.Equal(firstToken, await File.ReadAllTextAsync(token));
        Assert.Contains("edited-by-operator", await File.ReadAllTextAsync(nodeEnv), StringComparison.Ordinal);
        Assert.Contains("kept existing", again.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Install_GeneratesAStatsPasswordAndAdminToken_ReadableByRootOnly()
    {
        var envFile = Path.Combine(_root, "etc", "haproxy", "vnc-relay.env");
        var token = Path.Combine(_root, "etc", "credstore", "vnc-relay.admin-token");

        var password = StatsPassword().Match(await File.ReadAllTextAsync(envFile));

        Assert.True(password.Success, "HAPROXY_STATS_PASSWORD was not filled in");
        Assert.True(password.Groups[1].Value.Length >= 24, "the generated stats password is shorter than 24 characters");
        Assert.True((await File.ReadAllTextAsync(token)).Length >= 24, "the generated admin token is shorter than 24 characters");
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(envFile));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(token));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(Path.Combine(_root, "etc", "credstore")));
    }

    [Fact]
    public async Task Install_GeneratesTheTicketSecretTheEnvironmentFileNames_ForTheNodesGroupOnly()
    {
        var env = await File.ReadAllTextAsync(Path.Combine(_root, "etc", "vnc-relay", "vnc-relay.env"));
        var secret = Path.Combine(_root, "etc", "vnc-relay", "ticket-secret");
        var gid = Assert.Single(await File.ReadAllLinesAsync(Path.Combine(_root, "etc", "group")), line => line.StartsWith("vnc-relay:", StringComparison.Ordinal)).Split(':')[2];

        // Plain md5 tokens are off in the example, so the node needs this secret to start at all.
        Assert.Contains("\nTokens__AcceptPlainTokens=false\n", env, StringComparison.Ordinal);
        Assert.Contains("\nTickets__SecretFile=/etc/vnc-relay/ticket-secret\n", env, StringComparison.Ordinal);
        Assert.True((await File.ReadAllTextAsync(secret)).Trim().Length >= 32, "the generated ticket secret is shorter than 32 characters");
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead, File.GetUnixFileMode(secret));
        Assert.Equal($"0:{gid}", (await DeployCommands.RunAsync("stat", "stat", ["-c", "%u:%g", secret])).Output.Trim());
        var first = await File.ReadAllTextAsync(secret);
        var again = await InstallAsync();
        Assert.True(again.ExitCode == 0, again.Output);
        Assert.Equal(first, await File.ReadAllTextAsync(secret));
    }

    [Fact]
    public async Task Install_CreatesTheNodesSystemUser_AndAConfigFolderItsGroupMayRead()
    {
        var passwd = await File.ReadAllLinesAsync(Path.Combine(_root, "etc", "passwd"));
        var group = await File.ReadAllLinesAsync(Path.Combine(_root, "etc", "group"));
        var unit = await File.ReadAllTextAsync(Path.Combine(_root, "etc", "systemd", "system", "vnc-relay.service"));

        var user = Assert.Single(passwd, line => line.StartsWith("vnc-relay:", StringComparison.Ordinal)).Split(':');
        var gid = Assert.Single(group, line => line.StartsWith("vnc-relay:", StringComparison.Ordinal)).Split(':')[2];
        Assert.True(int.Parse(user[2], CultureInfo.InvariantCulture) < 1000, $"vnc-relay is not a system user: uid {user[2]}");
        Assert.Equal("/usr/sbin/nologin", user[6]);
        Assert.Equal(gid, user[3]);
        Assert.Contains("\nUser=vnc-relay\n", unit, StringComparison.Ordinal);
        Assert.DoesNotMatch(new Regex("^DynamicUser=yes", RegexOptions.Multiline), unit);
        var config = Path.Combine(_root, "etc", "vnc-relay");
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupRead | UnixFileMode.GroupExecute,
            File.GetUnixFileMode(config));
        var stat = await DeployCommands.RunAsync("stat", "stat", ["-c", "%u:%g", config]);
        Assert.Equal($"0:{gid}", stat.Output.Trim());
    }

    [Fact]
    public async Task SecondInstall_KeepsThePreviousTree_AndRollbackSwapsThemBack()
    {
        var node = Path.Combine(_root, "opt", "vnc-relay", "vnc-relay");
        var first = await File.ReadAllTextAsync(node);
        WriteStub(Path.Combine(_artifacts, "vnc-relay", "vnc-relay"), "# second build");

        var second = await InstallAsync();
        Assert.True(second.ExitCode == 0, second.Output);
        Assert.Contains("# second build", await File.ReadAllTextAsync(node), StringComparison.Ordinal);
        Assert.Equal(first, await File.ReadAllTextAsync(Path.Combine(_root, "opt", "vnc-relay.previous", "vnc-relay")));

        var rollback = await DeployCommands.RunAsync("install.sh", "bash", [InstallScript, "--root", _root, "--rollback"]);
        Assert.True(rollback.ExitCode == 0, rollback.Output);
        Assert.Equal(first, await File.ReadAllTextAsync(node));
        Assert.Contains("# second build", await File.ReadAllTextAsync(Path.Combine(_root, "opt", "vnc-relay.previous", "vnc-relay")), StringComparison.Ordinal);

        var forward = await DeployCommands.RunAsync("install.sh", "bash", [InstallScript, "--root", _root, "--rollback"]);
        Assert.True(forward.ExitCode == 0, forward.Output);
        Assert.Contains("# second build", await File.ReadAllTextAsync(node), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Install_WithoutPublishedNode_FailsAndSaysWhatToRun()
    {
        var empty = Repo.TempDirectory("no-artifacts");
        try
        {
            var result = await DeployCommands.RunAsync("install.sh", "bash", [InstallScript, "--root", _root, "--artifacts", empty]);

            Assert.NotEqual(0, result.ExitCode);
            Assert.Contains("make build", result.Output, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(empty, recursive: true);
        }
    }

    public ValueTask DisposeAsync()
    {
        Directory.Delete(_root, recursive: true);
        Directory.Delete(_artifacts, recursive: true);
        return ValueTask.CompletedTask;
    }

    private Task<CommandResult> InstallAsync() =>
        DeployCommands.RunAsync("install.sh", "bash", [InstallScript, "--root", _root, "--artifacts", _artifacts, "--simulator", "--haproxy"]);

    private static void WriteStub(string path, string marker = "")
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, $"#!/bin/sh\n{marker}\nexit 0\n");
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
    }

    [GeneratedRegex(@"Overall exposure level for vnc-relay\.service: ([0-9.]+)")]
    private static partial Regex ExposureLevel();

    [GeneratedRegex(@"^HAPROXY_STATS_PASSWORD=(\S+)$", RegexOptions.Multiline)]
    private static partial Regex StatsPassword();
}
