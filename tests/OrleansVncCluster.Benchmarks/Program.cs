using System.Text.Json;
using System.Text.Json.Serialization;
using OrleansVncCluster.Benchmarks.Reporting;
using OrleansVncCluster.Benchmarks.Targets;

namespace OrleansVncCluster.Benchmarks;

/// <summary>vnc-bench: the load generator behind `make bench`.</summary>
public static class Program
{
    private static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    public static async Task<int> Main(string[] args)
    {
        if (args is [BannerHost.Command])
        {
            return await BannerHost.ServeAsync();
        }

        if (args is not ["run", ..])
        {
            Console.Error.WriteLine(BenchOptions.Usage);
            return 2;
        }

        BenchOptions options;
        try
        {
            options = BenchOptions.Parse(args);
        }
        catch (ArgumentException exception)
        {
            Console.Error.WriteLine(exception.Message);
            return 2;
        }

        var results = await new BenchRunner(options).RunAsync();
        Directory.CreateDirectory(options.OutputDirectory);
        var jsonFile = Path.Combine(options.OutputDirectory, "results.json");
        var markdownFile = Path.Combine(options.OutputDirectory, "results.md");
        await File.WriteAllTextAsync(jsonFile, JsonSerializer.Serialize(results, Json));
        var markdown = MarkdownReport.Render(results);
        await File.WriteAllTextAsync(markdownFile, "# vnc-bench results\n\n" + markdown);
        // Only a full run may stand as the "Last results": a quick or subset run would replace them with figures that are
        // not comparable, or with half a table.
        var doc = options.DocFile is { } file && options.IsFullRun ? file : null;
        if (doc is not null)
        {
            MarkdownReport.UpdateDocument(doc, markdown);
        }

        Console.WriteLine();
        Console.WriteLine(markdown);
        Console.WriteLine($"results: {Path.GetFullPath(jsonFile)}, {Path.GetFullPath(markdownFile)}{(doc is null ? "" : $", {doc}")}");
        if (options.DocFile is not null && doc is null)
        {
            Console.WriteLine($"{options.DocFile} left as it was: only a full run (no --quick, every peer and workload, no overrides) replaces its results");
        }
        return 0;
    }
}
