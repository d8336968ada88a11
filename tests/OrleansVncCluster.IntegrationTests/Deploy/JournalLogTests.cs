using System.Globalization;
using System.Text.RegularExpressions;
using OrleansVncCluster.IntegrationTests.Infrastructure;

namespace OrleansVncCluster.IntegrationTests.Deploy;

/// <summary>
/// Under systemd the node's standard output is a stream to journald, which takes a leading <c>&lt;N&gt;</c> as the
/// entry's syslog priority and starts a new entry at every newline. systemd tells a service so with JOURNAL_STREAM;
/// these tests set it and read what journald would read.
/// </summary>
[Collection(MachineWide.Name)]
public sealed partial class JournalLogTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task UnderJournal_EveryLineCarriesItsSeverity_WarningsAreFour()
    {
        await using var node = StartNode(new() { ["Abiquo__Url"] = "https://cloud.internal.test/api" });

        await node.WaitForOutputAsync("Application started", Timeout);

        var lines = Lines(node.Output);
        Assert.All(lines, line => Assert.Matches(SeverityPrefix(), line));
        // The source before the colon is the logger's (start-up: vnc-relay, the cluster's set-up: Cluster).
        Assert.Contains(lines, line => line.StartsWith("<4>", StringComparison.Ordinal) && line.Contains(": No Redis configured", StringComparison.Ordinal));
        Assert.Contains(lines, line => line.StartsWith("<4>vnc-relay: Abiquo:Url set, but Abiquo:ApiUrl is not", StringComparison.Ordinal));
        Assert.Contains(lines, line => line.StartsWith("<6>vnc-relay: Token sources: token files ", StringComparison.Ordinal));
        // journald stamps entries itself: no second timestamp in the line.
        Assert.DoesNotContain(lines, line => TextTimestamp().IsMatch(line));
    }

    [Fact]
    public async Task UnderJournal_AnExceptionWithItsStackTraceIsOneEntry()
    {
        // Not an IP address: the node stops at start-up and logs the exception with its stack trace.
        await using var node = StartNode(new() { ["Orleans__Endpoints__AdvertisedIPAddress"] = "not-an-address" });

        Assert.True(await node.WaitForExitAsync(Timeout), $"the node did not stop:\n{node.Tail()}");

        Assert.Equal(1, node.ExitCode);
        var lines = Lines(node.Output);
        Assert.All(lines, line => Assert.Matches(SeverityPrefix(), line));
        var fatal = Assert.Single(lines, line => line.Contains("The node could not start", StringComparison.Ordinal));
        Assert.StartsWith("<2>", fatal, StringComparison.Ordinal);
        Assert.Contains("System.InvalidOperationException", fatal, StringComparison.Ordinal);
        Assert.Matches(@" at OrleansVncCluster\.Relay\.", fatal);
    }

    [Fact]
    public async Task WithoutJournal_TextLinesForATerminal()
    {
        await using var node = StartNode(new() { ["JOURNAL_STREAM"] = null });

        await node.WaitForOutputAsync("Application started", Timeout);

        var lines = Lines(node.Output);
        Assert.DoesNotContain(lines, line => SeverityPrefix().IsMatch(line));
        Assert.Contains(lines, line => TextTimestamp().IsMatch(line) && line.Contains("WRN] ", StringComparison.Ordinal) && line.Contains(": No Redis configured", StringComparison.Ordinal));
    }

    private static ManagedProcess StartNode(Dictionary<string, string?> environment)
    {
        var tokens = TokenFiles.Write(Repo.TempDirectory("journal"), ("journal", "127.0.0.1:5999"));
        var env = new Dictionary<string, string?>
        {
            // device:inode of the stream, as systemd sets it; the node only asks whether it is there.
            ["JOURNAL_STREAM"] = "9:" + Random.Shared.Next(10_000, 99_999).ToString(CultureInfo.InvariantCulture),
            ["Relay__Listen"] = $"127.0.0.1:{Ports.Free()}",
            ["Relay__AdminListen"] = $"127.0.0.1:{Ports.Free()}",
            ["Relay__AgentListen"] = $"127.0.0.1:{Ports.Free()}",
            ["Orleans__Endpoints__SiloPort"] = Ports.Free().ToString(CultureInfo.InvariantCulture),
            ["Relay__DrainBudget"] = "00:00:01",
            ["Tokens__Files__0"] = tokens,
        };
        foreach (var (key, value) in environment)
        {
            env[key] = value;
        }

        return ManagedProcess.Start("vnc-relay-journal", Repo.RelayExecutable, [], env);
    }

    private static List<string> Lines(string output) =>
        output.Split('\n').Select(line => line.TrimEnd('\r')).Where(line => line.Length > 0).ToList();

    [GeneratedRegex(@"^<[0-7]>\S")]
    private static partial Regex SeverityPrefix();

    [GeneratedRegex(@"^\[\d\d:\d\d:\d\d [A-Z]{3}\]")]
    private static partial Regex TextTimestamp();
}
