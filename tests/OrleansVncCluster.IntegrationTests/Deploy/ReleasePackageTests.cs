using System.Net.Http;
using OrleansVncCluster.IntegrationTests.Infrastructure;

namespace OrleansVncCluster.IntegrationTests.Deploy;

/// <summary>
/// What `make dist` wrote to artifacts/dist/, used for real: the .deb installed with dpkg on this machine, its node
/// started from the packaged unit (as its user, with its config and credentials; systemd-shim.sh stands in for
/// systemctl, since systemd is not PID 1 here), upgraded to a newer package keeping the operator's edit, rolled back
/// to the first one, removed and purged; and the tarball unpacked and installed with its own install.sh.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
[Collection(MachineWide.Name)]
public sealed class ReleasePackageTests : IAsyncLifetime
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(120);
    private static readonly string Dist = Path.Combine(Repo.Root, "artifacts", "dist");
    private readonly string _work = Repo.TempDirectory("release");
    private bool _installed;

    public ValueTask InitializeAsync() => ValueTask.CompletedTask;

    [Fact]
    public async Task Deb_InstallsRunsUpgradesKeepingConfig_RollsBack_AndPurges()
    {
        HostInstall.EnsureClean();
        var deb = SingleArtifact("vnc-relay_*_amd64.deb");
        var version = (await RunAsync("dpkg-deb", ["-f", deb, "Version"])).Trim();

        _installed = true;
        var install = await RunAsync("dpkg", ["-i", deb]);
        Assert.Contains("generated the admin API token", install, StringComparison.Ordinal);
        Assert.Contains("not started", install, StringComparison.Ordinal);
        Assert.Equal(version, await InstalledVersionAsync());
        var said = (await RunAsync("/opt/vnc-relay/vnc-relay", ["--version"])).Trim();
        Assert.Equal("vnc-relay " + version.Replace("~dev.", "-dev.", StringComparison.Ordinal).Replace("+post.", "-post.", StringComparison.Ordinal), said);
        Assert.Equal($"0:{HostInstall.GroupId("vnc-relay")} 750", (await RunAsync("stat", ["-c", "%u:%g %a", "/etc/vnc-relay"])).Trim());
        Assert.Equal("0:0 600", (await RunAsync("stat", ["-c", "%u:%g %a", "/etc/credstore/vnc-relay.admin-token"])).Trim());
        var token = await File.ReadAllTextAsync("/etc/credstore/vnc-relay.admin-token");
        Assert.Empty(await RunAsync("dpkg", ["--verify", "vnc-relay"]));

        // The packaged unit starts the self-contained node as vnc-relay, with the packaged config: it gets ready.
        await ShimAsync("systemctl start vnc-relay");
        try
        {
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
            await Eventually.HoldsAsync(async () => (await http.GetAsync(new Uri("http://127.0.0.1:6080/readyz"))).IsSuccessStatusCode, Timeout,
                $"the packaged node answers /readyz (log:\n{Tail("vnc-relay.log")})");
            var uid = (await RunAsync("ps", ["-o", "uid=", "-p", (await File.ReadAllTextAsync(Path.Combine(_work, "shim", "vnc-relay.pid"))).Trim()])).Trim();
            Assert.Equal((await RunAsync("id", ["-u", "vnc-relay"])).Trim(), uid);
        }
        finally
        {
            await ShimAsync("systemctl stop vnc-relay");
        }

        await File.AppendAllTextAsync("/etc/vnc-relay/vnc-relay.env", "Orleans__SiloName=edited-by-operator\n");
        var newer = await NewerPackageAsync(deb, version + ".1");
        var upgrade = await RunAsync("dpkg", ["-i", newer]);
        Assert.Equal(version + ".1", await InstalledVersionAsync());
        Assert.True(File.Exists("/opt/vnc-relay/NEWER-BUILD"), "the upgrade did not replace /opt/vnc-relay");
        Assert.Contains("edited-by-operator", await File.ReadAllTextAsync("/etc/vnc-relay/vnc-relay.env"), StringComparison.Ordinal);
        Assert.Equal(token, await File.ReadAllTextAsync("/etc/credstore/vnc-relay.admin-token"));
        Assert.DoesNotContain("generated the admin API token", upgrade, StringComparison.Ordinal);

        await RunAsync("dpkg", ["-i", deb]);
        Assert.Equal(version, await InstalledVersionAsync());
        Assert.False(File.Exists("/opt/vnc-relay/NEWER-BUILD"), "the rollback left the newer build's file");
        Assert.Contains("edited-by-operator", await File.ReadAllTextAsync("/etc/vnc-relay/vnc-relay.env"), StringComparison.Ordinal);

        await RunAsync("dpkg", ["--remove", "vnc-relay"]);
        Assert.False(Directory.Exists("/opt/vnc-relay"), "remove left /opt/vnc-relay");
        Assert.True(File.Exists("/etc/vnc-relay/vnc-relay.env"), "remove (not purge) must keep the configuration");
        Assert.True(File.Exists("/etc/credstore/vnc-relay.admin-token"), "remove (not purge) must keep the secrets");

        await RunAsync("dpkg", ["--purge", "vnc-relay"]);
        Assert.False(Directory.Exists("/etc/vnc-relay"), "purge left /etc/vnc-relay");
        Assert.Empty(Directory.Exists("/etc/credstore") ? Directory.GetFiles("/etc/credstore", "vnc-relay.*") : []);
        var status = await RunAsync("dpkg-query", ["-W", "-f", "${db:Status-Status}", "vnc-relay"], check: false);
        Assert.True(status.Contains("not-installed", StringComparison.Ordinal) || status.Contains("no packages found", StringComparison.Ordinal),
            $"dpkg still knows vnc-relay after the purge: {status}");
    }

    [Fact]
    public async Task Tarball_HoldsTheNodeUnitsEnvExamplesAndDocs_AndItsInstallShWorks()
    {
        var tarball = SingleArtifact("vnc-relay-*-linux-x64.tar.gz");
        await RunAsync("tar", ["-xzf", tarball, "-C", _work]);
        var top = Assert.Single(Directory.GetDirectories(_work, "vnc-relay-*"));
        var version = Path.GetFileName(top)["vnc-relay-".Length..^"-linux-x64".Length];

        Assert.Equal($"vnc-relay {version}", (await RunAsync(Path.Combine(top, "artifacts", "vnc-relay", "vnc-relay"), ["--version"])).Trim());
        foreach (var file in new[]
        {
            "deploy/install.sh", "deploy/systemd/vnc-relay.service", "deploy/systemd/abiquo-simulator.service", "deploy/sysusers.d/vnc-relay.conf",
            "deploy/env/vnc-relay.env.example", "deploy/env/haproxy.env.example", "haproxy/haproxy.cfg", "docs/OPERATIONS.md",
            "docs/CONFIGURATION.md", "README.md", "CHANGELOG.md", "artifacts/abiquo-simulator/abiquo-simulator",
        })
        {
            Assert.True(File.Exists(Path.Combine(top, file)), $"the tarball lacks {file}");
        }

        // Self-contained: the runtime is inside, so hosts need no .NET installed.
        Assert.True(File.Exists(Path.Combine(top, "artifacts", "vnc-relay", "libcoreclr.so")), "the node in the tarball is not self-contained");
        var root = Path.Combine(_work, "root");
        var installed = await RunAsync("bash", [Path.Combine(top, "deploy", "install.sh"), "--root", root, "--simulator"]);
        Assert.Contains($"vnc-relay {version}", installed, StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(root, "etc", "systemd", "system", "vnc-relay.service")));
    }

    [Fact]
    public async Task Arm64_Tarball_HoldsAnAarch64SelfContainedNode_OfTheSameVersion()
    {
        var x64 = Path.GetFileName(SingleArtifact("vnc-relay-*-linux-x64.tar.gz"));
        var tarball = SingleArtifact("vnc-relay-*-linux-arm64.tar.gz");
        Assert.Equal(x64.Replace("-linux-x64", "-linux-arm64", StringComparison.Ordinal), Path.GetFileName(tarball));
        await RunAsync("tar", ["-xzf", tarball, "-C", _work]);
        var top = Assert.Single(Directory.GetDirectories(_work, "vnc-relay-*-linux-arm64"));

        // Nothing here runs arm64 code: the binaries are checked for what they are, not run.
        Assert.Matches("ELF 64-bit .*ARM aarch64", await RunAsync("file", ["-b", Path.Combine(top, "artifacts", "vnc-relay", "vnc-relay")]));
        Assert.Matches("ELF 64-bit .*ARM aarch64", await RunAsync("file", ["-b", Path.Combine(top, "artifacts", "vnc-relay", "libcoreclr.so")]));
        Assert.Matches("ELF 64-bit .*ARM aarch64", await RunAsync("file", ["-b", Path.Combine(top, "artifacts", "abiquo-simulator", "abiquo-simulator")]));
        Assert.True(File.Exists(Path.Combine(top, "deploy", "systemd", "vnc-relay.service")), "the arm64 tarball lacks the unit");

        // make test packs no arm64 .deb (make dist does, and lints it); the tarball is listed in the checksums.
        Assert.Contains(Path.GetFileName(tarball), await File.ReadAllTextAsync(Path.Combine(Dist, "SHA256SUMS")), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Deb_NamesTheProjectsMaintainer_AndCopyright_NotPlaceholders()
    {
        var deb = SingleArtifact("vnc-relay_*_amd64.deb");
        var maintainer = (await RunAsync("dpkg-deb", ["-f", deb, "Maintainer"])).Trim();
        var extracted = Path.Combine(_work, "copyright-deb");
        await RunAsync("dpkg-deb", ["-x", deb, extracted]);
        var copyright = await File.ReadAllTextAsync(Path.Combine(extracted, "usr", "share", "doc", "vnc-relay", "copyright"));

        Assert.DoesNotContain("example.com", maintainer, StringComparison.Ordinal);
        Assert.Contains($"Upstream-Contact: {maintainer}\n", copyright, StringComparison.Ordinal);
        Assert.Contains("Files: opt/vnc-relay/wwwroot/novnc/*", copyright, StringComparison.Ordinal);
        Assert.Contains("License: MPL-2.0", copyright, StringComparison.Ordinal);
        Assert.DoesNotContain("has not chosen a licence yet", copyright, StringComparison.Ordinal);
    }

    public async ValueTask DisposeAsync()
    {
        if (_installed)
        {
            await ShimAsync("systemctl stop vnc-relay", check: false);
            await RunAsync("dpkg", ["--purge", "vnc-relay"], check: false);
            await HostInstall.RemoveAsync();
        }

        Directory.Delete(_work, recursive: true);
    }

    private static string SingleArtifact(string pattern)
    {
        var found = Directory.Exists(Dist) ? Directory.GetFiles(Dist, pattern) : [];
        Assert.True(found.Length == 1, $"expected one {pattern} in {Dist}, found {found.Length}: run `make dist` (make test does)");
        return found[0];
    }

    /// <summary>The same package rebuilt by scripts/build-deb.sh as version <paramref name="version"/>, with one file more.</summary>
    private async Task<string> NewerPackageAsync(string deb, string version)
    {
        var extracted = Path.Combine(_work, "newer-tree");
        await RunAsync("dpkg-deb", ["-x", deb, extracted]);
        var tree = Path.Combine(extracted, "opt", "vnc-relay");
        await File.WriteAllTextAsync(Path.Combine(tree, "NEWER-BUILD"), version);
        var output = await RunAsync("bash", [Path.Combine(Repo.Root, "scripts", "build-deb.sh"), "--tree", tree, "--version", version, "--out", Path.Combine(_work, "newer")]);
        return output.Trim().Split('\n')[^1];
    }

    private static async Task<string> InstalledVersionAsync() => (await RunAsync("dpkg-query", ["-W", "-f", "${Version}", "vnc-relay"])).Trim();

    private string Tail(string log)
    {
        var path = Path.Combine(_work, "shim", log);
        return File.Exists(path) ? string.Join('\n', File.ReadAllLines(path).TakeLast(30)) : "(no log)";
    }

    private async Task ShimAsync(string command, bool check = true)
    {
        var shim = Path.Combine(Repo.Root, "tests", "OrleansVncCluster.IntegrationTests", "Deploy", "systemd-shim.sh");
        await RunAsync("bash", ["-c", $"SHIM_DIR='{Path.Combine(_work, "shim")}'; . '{shim}'; {command}"], check);
    }

    private static async Task<string> RunAsync(string file, string[] args, bool check = true)
    {
        var result = await DeployCommands.RunAsync(Path.GetFileName(file), file, args, timeout: Timeout);
        if (check)
        {
            Assert.True(result.ExitCode == 0, $"{file} {string.Join(' ', args)} failed with {result.ExitCode}:\n{result.Output}");
        }

        return result.Output;
    }
}
