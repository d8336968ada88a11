using OrleansVncCluster.IntegrationTests.Infrastructure;

namespace OrleansVncCluster.IntegrationTests.Console;

/// <summary>
/// The page scripts' own unit tests (web/test, Node's test runner), one xunit case per Node test so `make test` counts
/// each of them: the suite runs once, with the TAP reporter, when xunit asks for the cases; each case then reports its
/// own Node result. A run that finds no test at all fails twice: the theory has no data, and the suite check below.
/// </summary>
public sealed class ConsoleScriptTests
{
    /// <summary>The Node tests, one row each (the name as Node prints it).</summary>
    public static TheoryData<string> NodeTests()
    {
        var run = NodeTestRun.Current;
        var rows = new TheoryData<string>();
        foreach (var result in run.Results)
        {
            rows.Add(result.Name);
        }

        return rows;
    }

    [Theory]
    [MemberData(nameof(NodeTests))]
    public void WebTest_Passes(string name)
    {
        var result = NodeTestRun.Current.Results.Single(r => r.Name == name);

        Assert.True(result.Passed, $"node test '{name}' failed:\n{result.Details}");
    }

    [Fact]
    public void WebSuite_RunsAtLeastOneTest_AndEveryTestItCounts_IsACase()
    {
        var run = NodeTestRun.Current;

        Assert.True(run.ExitCode == 0, $"node --test exited with {run.ExitCode}:\n{run.Tail}");
        Assert.True(run.Declared > 0, $"node --test ran no test at all (\"# tests {run.Declared}\"):\n{run.Tail}");
        Assert.Equal(run.Declared, run.Results.Count);
        Assert.Equal(0, run.Failed);
    }
}

/// <summary>One run of <c>node --test --test-reporter=tap test/</c> in web/, parsed; made once per test process.</summary>
public sealed class NodeTestRun
{
    private static readonly Lazy<NodeTestRun> Run = new(Start);

    private NodeTestRun(int exitCode, string output)
    {
        ExitCode = exitCode;
        Tail = output.Length <= 4000 ? output : output[^4000..];
        Results = Parse(output);
        Declared = Counter(output, "tests");
        Failed = Counter(output, "fail");
    }

    /// <summary>The run of this test process (started on first use).</summary>
    public static NodeTestRun Current => Run.Value;

    /// <summary>Node's exit code.</summary>
    public int ExitCode { get; }

    /// <summary>The end of its output, for messages.</summary>
    public string Tail { get; }

    /// <summary>The top-level results, in order; a file that failed to load is one failed result named after it.</summary>
    public IReadOnlyList<NodeTestResult> Results { get; }

    /// <summary>Node's own count (<c># tests N</c>); -1 when it printed none.</summary>
    public int Declared { get; }

    /// <summary>Node's count of failures (<c># fail N</c>); -1 when it printed none.</summary>
    public int Failed { get; }

    private static NodeTestRun Start()
    {
        var start = new System.Diagnostics.ProcessStartInfo("node")
        {
            WorkingDirectory = Path.Combine(Repo.Root, "web"),
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in new[] { "--test", "--test-reporter=tap", "test/" })
        {
            start.ArgumentList.Add(arg);
        }

        using var process = System.Diagnostics.Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromSeconds(120)))
        {
            process.Kill();
            throw new TimeoutException("node --test did not finish within 120 s");
        }

        var output = stdout.GetAwaiter().GetResult() + stderr.GetAwaiter().GetResult();
        File.WriteAllText(Path.Combine(Repo.ArtifactsDirectory, "node-test.tap"), output);
        return new NodeTestRun(process.ExitCode, output);
    }

    /// <summary>Top-level TAP results ("ok N - name" / "not ok N - name" at column 0) with the YAML block that follows.</summary>
    private static List<NodeTestResult> Parse(string output)
    {
        var lines = output.Split('\n');
        var results = new List<NodeTestResult>();
        var seen = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < lines.Length; i++)
        {
            var line = lines[i].TrimEnd('\r');
            var passed = line.StartsWith("ok ", StringComparison.Ordinal);
            if (!passed && !line.StartsWith("not ok ", StringComparison.Ordinal))
            {
                continue;
            }

            var dash = line.IndexOf(" - ", StringComparison.Ordinal);
            var name = dash < 0 ? line : line[(dash + 3)..];
            if (name.Contains(" # SKIP", StringComparison.Ordinal) || name.Contains(" # TODO", StringComparison.Ordinal))
            {
                passed = false; // a skipped test proves nothing; the suite has none today
            }

            // Node reports a file in which no test registered (or which failed to load) as one result named after the
            // file, "ok" when it merely loaded: that is no test at all.
            var noTestInFile = Path.IsPathRooted(name) && name.EndsWith("js", StringComparison.Ordinal);
            passed &= !noTestInFile;

            // Two tests of the same name in different files stay two cases.
            seen[name] = seen.GetValueOrDefault(name) + 1;
            if (seen[name] > 1)
            {
                name += $" #{seen[name]}";
            }

            var details = new List<string> { noTestInFile ? $"{line}  <- this file registered no test, or failed to load" : line };
            for (var j = i + 1; j < lines.Length && lines[j].StartsWith("  ", StringComparison.Ordinal); j++)
            {
                details.Add(lines[j].TrimEnd('\r'));
            }

            results.Add(new NodeTestResult(name, passed, string.Join('\n', details)));
        }

        return results;
    }

    private static int Counter(string output, string name)
    {
        var prefix = $"# {name} ";
        var line = output.Split('\n').LastOrDefault(l => l.StartsWith(prefix, StringComparison.Ordinal));
        return line is not null && int.TryParse(line[prefix.Length..].Trim(), System.Globalization.CultureInfo.InvariantCulture, out var value) ? value : -1;
    }
}

/// <summary>One Node test's outcome.</summary>
public sealed record NodeTestResult(string Name, bool Passed, string Details);
