namespace OrleansVncCluster.Benchmarks.Reporting;

/// <summary>Nearest-rank percentiles: always a value that was measured, never one interpolated between two.</summary>
internal static class Percentile
{
    /// <summary>The <paramref name="p"/> (0..1) percentile of <paramref name="values"/>, in any order; 0 when there are none.</summary>
    public static double Of(IEnumerable<double> values, double p)
    {
        var sorted = values.Order().ToList();
        return OfSorted(sorted, p);
    }

    /// <summary>As <see cref="Of"/>, for values already sorted ascending.</summary>
    public static double OfSorted(IReadOnlyList<double> sorted, double p) =>
        sorted.Count == 0 ? 0 : sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Count) - 1, 0, sorted.Count - 1)];
}
