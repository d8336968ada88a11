using OrleansVncCluster.IntegrationTests.Deploy;
using OrleansVncCluster.IntegrationTests.Infrastructure;

namespace OrleansVncCluster.IntegrationTests.Ci;

/// <summary>
/// scripts/test-summary.sh, the line CI reports, on TRX files written here: it sums what ran, and it fails (exit 1, the
/// reason on stderr, the totals line still last) for every run that must not pass as green.
/// </summary>
public sealed class TestSummaryTests : IDisposable
{
    private readonly string _results = Repo.TempDirectory("trx");

    [Fact]
    public async Task Reports_AreSummed_IntoThePlainTotalsLine()
    {
        Trx("unit.trx", total: 30, passed: 30);
        Trx("integration.trx", total: 12, passed: 12);

        var summary = await SummaryAsync(minimum: 42);

        Assert.True(summary.ExitCode == 0, summary.Output);
        Assert.Equal("42 passed, 0 failed", LastLine(summary));
    }

    [Fact]
    public async Task FailedTest_FailsTheSummary()
    {
        Trx("unit.trx", total: 30, passed: 29, failed: 1);

        var summary = await SummaryAsync(minimum: 1);

        Assert.Equal(1, summary.ExitCode);
        Assert.Equal("29 passed, 1 failed", LastLine(summary));
    }

    [Fact]
    public async Task FewerTestsThanTheFloor_FailsTheSummary_NamingTheFloor()
    {
        Trx("unit.trx", total: 30, passed: 30);

        var summary = await SummaryAsync(minimum: 31);

        Assert.Equal(1, summary.ExitCode);
        Assert.Contains("only 30 tests ran, fewer than the floor of 31", summary.Output, StringComparison.Ordinal);
        Assert.Equal("30 passed, 0 failed", LastLine(summary));
    }

    [Fact]
    public async Task ReportWithoutCounters_FailsTheSummary_NamingTheFile()
    {
        Trx("unit.trx", total: 30, passed: 30);
        File.WriteAllText(Path.Combine(_results, "cut-short.trx"), "<TestRun><Results /></TestRun>");

        var summary = await SummaryAsync(minimum: 1);

        Assert.Equal(1, summary.ExitCode);
        Assert.Contains("cut-short.trx has no <Counters>", summary.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task NoReportAtAll_AsAfterABuildFailure_FailsTheSummary()
    {
        var summary = await SummaryAsync(minimum: 0);

        Assert.Equal(1, summary.ExitCode);
        Assert.Contains("no TRX report", summary.Output, StringComparison.Ordinal);
        Assert.Equal("0 passed, 0 failed", LastLine(summary));
    }

    [Fact]
    public async Task TheFloorInTheRepository_IsAPositiveNumber()
    {
        var lines = File.ReadAllLines(Path.Combine(Repo.Root, ".ci", "minimum-tests"))
            .Where(line => !line.TrimStart().StartsWith('#') && line.Trim().Length > 0)
            .ToList();

        var floor = int.Parse(Assert.Single(lines).Trim(), System.Globalization.CultureInfo.InvariantCulture);

        Assert.True(floor > 0, ".ci/minimum-tests must hold the total of a full run, not 0");
        Trx("unit.trx", total: floor - 1, passed: floor - 1);
        var summary = await SummaryAsync(minimum: null);
        Assert.Equal(1, summary.ExitCode);
    }

    public void Dispose() => Directory.Delete(_results, recursive: true);

    private static string LastLine(CommandResult result) =>
        result.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)[^1];

    private void Trx(string name, int total, int passed, int failed = 0) =>
        File.WriteAllText(Path.Combine(_results, name),
            $"""
            <?xml version="1.0" encoding="utf-8"?>
            <TestRun xmlns="http://microsoft.com/schemas/VisualStudio/TeamTest/2010">
              <ResultSummary outcome="{(failed == 0 ? "Completed" : "Failed")}">
                <Counters total="{total}" executed="{total}" passed="{passed}" failed="{failed}" error="0" timeout="0" aborted="0" inconclusive="0" />
              </ResultSummary>
            </TestRun>
            """);

    /// <summary>Runs the script on this test's folder; <paramref name="minimum"/> null uses the repository's floor.</summary>
    private async Task<CommandResult> SummaryAsync(int? minimum)
    {
        var environment = new Dictionary<string, string?>
        {
            ["MIN_TESTS"] = minimum?.ToString(System.Globalization.CultureInfo.InvariantCulture),
        };
        // One pipe for both streams keeps their order: the reasons on stderr, then the totals line, last whatever happened.
        return await DeployCommands.RunAsync("test-summary", "bash",
            ["-c", "\"$0\" \"$1\" 2>&1", Path.Combine(Repo.Root, "scripts", "test-summary.sh"), _results], environment);
    }
}
