using System.Text.RegularExpressions;
using OrleansVncCluster.IntegrationTests.Infrastructure;

namespace OrleansVncCluster.IntegrationTests.Deploy;

/// <summary>
/// deploy/prometheus/vnc-relay.rules.yml under promtool (from Debian's prometheus package, scripts/install-deps.sh):
/// it loads, its unit tests pass, each alert has a case that fires it, and k8s/monitoring.yaml's PrometheusRule carries
/// the same groups.
/// </summary>
[Collection(MachineWide.Name)]
public sealed partial class PrometheusRulesTests
{
    private static string Directory => Path.Combine(Repo.Root, "deploy", "prometheus");

    private static string RulesFile => Path.Combine(Directory, "vnc-relay.rules.yml");

    [Fact]
    public async Task Rules_LoadInPromtool()
    {
        var result = await DeployCommands.RunAsync("promtool-check", "promtool", ["check", "rules", RulesFile]);

        Assert.True(result.ExitCode == 0, $"promtool check rules failed:\n{result.Output}");
    }

    [Fact]
    public async Task RuleUnitTests_Pass()
    {
        var tests = System.IO.Directory.GetFiles(Directory, "*.test.yml");
        Assert.NotEmpty(tests);

        var result = await DeployCommands.RunAsync("promtool-test", "promtool", ["test", "rules", .. tests]);

        Assert.True(result.ExitCode == 0, $"promtool test rules failed:\n{result.Output}");
    }

    [Fact]
    public void EveryAlert_HasATestCaseThatExpectsItToFire()
    {
        var alerts = AlertName().Matches(File.ReadAllText(RulesFile)).Select(m => m.Groups[1].Value).ToList();
        var tests = string.Join('\n', System.IO.Directory.GetFiles(Directory, "*.test.yml").Select(File.ReadAllText));
        var firing = FiringCase().Matches(tests).Select(m => m.Groups[1].Value).ToHashSet(StringComparer.Ordinal);

        Assert.NotEmpty(alerts);
        Assert.All(alerts, alert => Assert.True(firing.Contains(alert), $"no case in deploy/prometheus/*.test.yml expects {alert} to fire"));
    }

    [Fact]
    public void KubernetesPrometheusRule_CarriesTheSameGroups()
    {
        var rules = File.ReadAllText(RulesFile);
        var groups = rules[rules.IndexOf("groups:", StringComparison.Ordinal)..].TrimEnd();
        var manifest = File.ReadAllText(Path.Combine(Repo.Root, "k8s", "monitoring.yaml"));
        var start = manifest.IndexOf("\n  groups:", StringComparison.Ordinal);
        Assert.True(start > 0, "k8s/monitoring.yaml has no PrometheusRule spec.groups");
        var block = manifest[(start + 1)..].Split('\n').TakeWhile(l => l.Length == 0 || l.StartsWith("  ", StringComparison.Ordinal))
            .Select(l => l.Length == 0 ? l : l[2..]);

        Assert.Equal(groups, string.Join('\n', block).TrimEnd());
    }

    [GeneratedRegex(@"^\s*- alert: (\w+)", RegexOptions.Multiline)]
    private static partial Regex AlertName();

    [GeneratedRegex(@"alertname: (\w+)\s*\n\s*exp_alerts:\s*\n\s*- exp_labels:", RegexOptions.Multiline)]
    private static partial Regex FiringCase();
}
