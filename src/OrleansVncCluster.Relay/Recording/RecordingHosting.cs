using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace OrleansVncCluster.Relay.Recording;

/// <summary>Registers session recording: its options, metrics, the cluster-wide index and files (<see cref="IRecordingIndex"/>,
/// <see cref="IRecordingFiles"/>) and the node's <see cref="Recorder"/> (and its flush timer).</summary>
public static class RecordingHosting
{
    /// <summary>Adds <see cref="RecordingOptions"/> (section "Recording", validated at start-up), <see cref="RecordingMetrics"/>
    /// and <see cref="Recorder"/>.</summary>
    public static IServiceCollection AddRelayRecording(this IServiceCollection services)
    {
        services.AddOptions<RecordingOptions>().BindConfiguration(RecordingOptions.Section).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<RecordingOptions>, RecordingOptionsValidator>());
        services.TryAddSingleton<RecordingMetrics>();
        // The cluster registers its multiplexer only when Redis is configured (Cluster/ClusterHosting), as for the history.
        services.TryAddSingleton<IRecordingIndex>(sp => sp.GetService<IConnectionMultiplexer>() is not null
            ? ActivatorUtilities.CreateInstance<RedisRecordingIndex>(sp)
            : ActivatorUtilities.CreateInstance<MemoryRecordingIndex>(sp));
        // Playback reads recordings through this, wherever in the cluster they were written.
        services.TryAddSingleton<ClusterRecordingFiles>();
        services.TryAddSingleton<IRecordingFiles>(sp => sp.GetRequiredService<ClusterRecordingFiles>());
        services.TryAddSingleton<Recorder>();
        services.AddHostedService(sp => sp.GetRequiredService<Recorder>());
        return services;
    }
}
