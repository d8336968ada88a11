namespace OrleansVncCluster.Benchmarks.Targets;

/// <summary>The logical targets a workload names; every peer maps each one to a token or a port.</summary>
internal static class TargetNames
{
    public const string Echo = "bench-echo";
    public const string Sink = "bench-sink";
    public const string Source = "bench-source";
    public const string Banner = "bench-banner";

    /// <summary>The banner target in the child process that holds the idle sessions' far ends.</summary>
    public const string Idle = "bench-idle";
}

/// <summary>The in-process targets plus the port of the out-of-process idle target.</summary>
internal sealed class TargetSet : IAsyncDisposable
{
    public TargetServer Echo { get; } = new(TargetKind.Echo);

    public TargetServer Sink { get; } = new(TargetKind.Sink);

    public TargetServer Source { get; } = new(TargetKind.Source);

    public TargetServer Banner { get; } = new(TargetKind.Banner);

    public required int IdlePort { get; init; }

    /// <summary>Port per logical target name.</summary>
    public IReadOnlyDictionary<string, int> Ports => new Dictionary<string, int>
    {
        [TargetNames.Echo] = Echo.Port,
        [TargetNames.Sink] = Sink.Port,
        [TargetNames.Source] = Source.Port,
        [TargetNames.Banner] = Banner.Port,
        [TargetNames.Idle] = IdlePort,
    };

    public async ValueTask DisposeAsync()
    {
        await Echo.DisposeAsync();
        await Sink.DisposeAsync();
        await Source.DisposeAsync();
        await Banner.DisposeAsync();
    }
}
