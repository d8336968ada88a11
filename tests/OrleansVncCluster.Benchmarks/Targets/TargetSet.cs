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
/// <param name="vncPassword">When set, every target speaks RFB 3.8 with VNC authentication first (the relay-side login
/// workload); otherwise they are raw TCP servers.</param>
internal sealed class TargetSet(string? vncPassword = null) : IAsyncDisposable
{
    public TargetServer Echo { get; } = new(TargetKind.Echo, vncPassword);

    public TargetServer Sink { get; } = new(TargetKind.Sink, vncPassword);

    public TargetServer Source { get; } = new(TargetKind.Source, vncPassword);

    public TargetServer Banner { get; } = new(TargetKind.Banner, vncPassword);

    public required int IdlePort { get; init; }

    /// <summary>Connections open now on the in-process targets.</summary>
    public int Open => Echo.Open + Sink.Open + Source.Open + Banner.Open;

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
