using System.Globalization;
using System.Text;

namespace OrleansVncCluster.IntegrationTests.Infrastructure;

/// <summary>One sample of a scrape: the series name, its labels and its value.</summary>
public sealed record PrometheusSample(string Name, IReadOnlyDictionary<string, string> Labels, double Value);

/// <summary>
/// A strict reader of the Prometheus text exposition format 0.0.4 (prometheus.io/docs/instrumenting/exposition_formats):
/// it throws, naming the line, on anything Prometheus itself would refuse (a bad name, an unquoted or badly escaped label
/// value, a repeated label, a value that is not a number, a TYPE after its samples or given twice, a sample whose
/// family has another TYPE's suffix), so the tests that read /metrics also check that it stays scrapable.
/// </summary>
public sealed class PrometheusText
{
    private static readonly HashSet<string> Types = ["counter", "gauge", "histogram", "summary", "untyped"];

    private PrometheusText(IReadOnlyList<PrometheusSample> samples, IReadOnlyDictionary<string, string> families)
    {
        Samples = samples;
        FamilyTypes = families;
    }

    /// <summary>Every sample, in the order printed.</summary>
    public IReadOnlyList<PrometheusSample> Samples { get; }

    /// <summary>Each family's TYPE.</summary>
    public IReadOnlyDictionary<string, string> FamilyTypes { get; }

    /// <summary>Reads a node's /metrics.</summary>
    public static async Task<PrometheusText> ScrapeAsync(RelayNodeProcess node)
    {
        using var http = new HttpClient();
        using var response = await http.GetAsync(node.AdminUri("/metrics"));
        response.EnsureSuccessStatusCode();
        var type = response.Content.Headers.ContentType;
        if (type?.MediaType != "text/plain" || !type.Parameters.Any(p => p.Name == "version" && p.Value == "0.0.4"))
        {
            throw new FormatException($"/metrics answered Content-Type '{type}', not text/plain; version=0.0.4");
        }

        return Parse(await response.Content.ReadAsStringAsync());
    }

    /// <summary>Parses a whole exposition; throws <see cref="FormatException"/> naming the first bad line.</summary>
    public static PrometheusText Parse(string text)
    {
        var samples = new List<PrometheusSample>();
        var families = new Dictionary<string, string>(StringComparer.Ordinal);
        var sampled = new HashSet<string>(StringComparer.Ordinal);
        var lines = text.Split('\n');
        if (lines[^1].Length != 0)
        {
            throw new FormatException("the exposition does not end with a line feed");
        }

        for (var i = 0; i < lines.Length - 1; i++)
        {
            var line = lines[i];
            try
            {
                if (line.Length == 0)
                {
                    continue;
                }

                if (line.StartsWith('#'))
                {
                    var parts = line.Split(' ', 4);
                    if (parts is ["#", "TYPE", var name, var type])
                    {
                        Expect(IsMetricName(name), $"bad metric name '{name}'");
                        Expect(Types.Contains(type), $"unknown type '{type}'");
                        Expect(!sampled.Contains(name), $"TYPE of {name} after its samples");
                        Expect(families.TryAdd(name, type), $"second TYPE for {name}");
                    }
                    else if (parts is ["#", "HELP", var help, ..])
                    {
                        Expect(IsMetricName(help), $"bad metric name '{help}'");
                    }

                    continue;
                }

                var sample = ParseSample(line);
                var family = FamilyOf(sample.Name, families);
                sampled.Add(family);
                samples.Add(sample);
            }
            catch (Exception exception) when (exception is FormatException or IndexOutOfRangeException)
            {
                throw new FormatException($"line {i + 1} '{line}': {exception.Message}", exception);
            }
        }

        return new PrometheusText(samples, families);
    }

    /// <summary>
    /// The sum of the samples a selector names: <c>name</c> or <c>name{label="value",...}</c>, matching every sample of
    /// that name whose labels include the given ones (other labels, e.g. <c>otel_scope_name</c>, may be present); 0 when
    /// none is printed (a labelled counter appears at its first event).
    /// </summary>
    public double Value(string selector)
    {
        var wanted = ParseSample(selector + " 0");
        if (!FamilyTypes.ContainsKey(wanted.Name) && !FamilyTypes.Keys.Any(f => wanted.Name.StartsWith(f + "_", StringComparison.Ordinal)))
        {
            // A family not printed at all is fine only for a labelled counter before its first event; a typo is not.
            Assert.True(wanted.Labels.Count > 0, $"/metrics has no family {wanted.Name}");
        }

        return Samples.Where(s => s.Name == wanted.Name && wanted.Labels.All(l => s.Labels.TryGetValue(l.Key, out var v) && v == l.Value))
            .Sum(s => s.Value);
    }

    /// <summary>True when at least one sample has this name.</summary>
    public bool Has(string name) => Samples.Any(s => s.Name == name);

    private static string FamilyOf(string name, Dictionary<string, string> families)
    {
        foreach (var suffix in (string[])["_bucket", "_sum", "_count"])
        {
            if (name.EndsWith(suffix, StringComparison.Ordinal) && families.TryGetValue(name[..^suffix.Length], out var type) && type is "histogram" or "summary")
            {
                return name[..^suffix.Length];
            }
        }

        if (families.TryGetValue(name, out var own))
        {
            Expect(own != "histogram", $"{name} is a histogram: its samples end in _bucket, _sum or _count");
        }

        return name;
    }

    private static PrometheusSample ParseSample(string line)
    {
        var i = 0;
        while (i < line.Length && line[i] is not ('{' or ' '))
        {
            i++;
        }

        var name = line[..i];
        Expect(IsMetricName(name), $"bad metric name '{name}'");
        var labels = new Dictionary<string, string>(StringComparer.Ordinal);
        if (i < line.Length && line[i] == '{')
        {
            i++;
            while (line[i] != '}')
            {
                var start = i;
                while (i < line.Length && line[i] != '=')
                {
                    i++;
                }

                var label = line[start..i];
                Expect(IsLabelName(label), $"bad label name '{label}'");
                Expect(i + 1 < line.Length && line[i + 1] == '"', $"label {label} has no quoted value");
                i += 2;
                var value = new StringBuilder();
                while (line[i] != '"')
                {
                    if (line[i] == '\\')
                    {
                        i++;
                        value.Append(line[i] switch
                        {
                            '\\' => '\\',
                            '"' => '"',
                            'n' => '\n',
                            var other => throw new FormatException($"bad escape '\\{other}' in label {label}"),
                        });
                    }
                    else
                    {
                        value.Append(line[i]);
                    }

                    i++;
                }

                Expect(labels.TryAdd(label, value.ToString()), $"label {label} given twice");
                i++;
                if (line[i] == ',')
                {
                    i++;
                }
                else
                {
                    Expect(line[i] == '}', $"expected ',' or '}}' after label {label}");
                }
            }

            i++;
        }

        Expect(i < line.Length && line[i] == ' ', "no space before the value");
        var rest = line[(i + 1)..].Split(' ');
        Expect(rest.Length is 1 or 2, "more than a value and a timestamp");
        var number = rest[0] switch
        {
            "+Inf" => double.PositiveInfinity,
            "-Inf" => double.NegativeInfinity,
            "NaN" => double.NaN,
            var text when double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var parsed) => parsed,
            var text => throw new FormatException($"value '{text}' is not a number"),
        };
        Expect(rest.Length == 1 || long.TryParse(rest[1], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out _), "timestamp is not an integer");
        return new PrometheusSample(name, labels, number);
    }

    private static bool IsMetricName(string name) =>
        name.Length > 0 && (char.IsAsciiLetter(name[0]) || name[0] is '_' or ':') && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or ':');

    private static bool IsLabelName(string name) =>
        name.Length > 0 && (char.IsAsciiLetter(name[0]) || name[0] == '_') && name.All(c => char.IsAsciiLetterOrDigit(c) || c == '_');

    private static void Expect(bool condition, string problem)
    {
        if (!condition)
        {
            throw new FormatException(problem);
        }
    }
}
