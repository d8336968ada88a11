using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace OrleansVncCluster.Relay.Recording;

/// <summary>Registers playback of recordings: its options (section "Recording", validated at start-up), the index cache,
/// the player and its endpoints. It reads recordings through the recorder's cluster-wide <see cref="IRecordingFiles"/>
/// (<see cref="RecordingHosting.AddRelayRecording"/>, <see cref="ClusterRecordingFiles"/>), wherever they were written.</summary>
public static class PlaybackHosting
{
    /// <summary>Below the relay path (Relay:Path): the playback WebSocket.</summary>
    public const string SocketSuffix = "/playback";

    /// <summary>The page's info call; under /console/ so HAProxy's public edge passes it like the page's files.</summary>
    public const string InfoPath = "/console/playback/info";

    /// <summary>Adds what playback needs.</summary>
    public static IServiceCollection AddRecordingPlayback(this IServiceCollection services)
    {
        services.AddOptions<PlaybackOptions>().BindConfiguration(RecordingOptions.Section).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<PlaybackOptions>, PlaybackOptionsValidator>());
        services.TryAddSingleton<RecordingIndexCache>();
        services.TryAddSingleton<RecordingPlayer>();
        services.TryAddSingleton<PlaybackEndpoint>();
        return services;
    }

    /// <summary>Maps the playback WebSocket below <paramref name="relayPath"/> and the page's info call.</summary>
    public static IEndpointRouteBuilder MapRecordingPlayback(this IEndpointRouteBuilder endpoints, string relayPath)
    {
        ArgumentNullException.ThrowIfNull(relayPath);
        endpoints.Map(relayPath.TrimEnd('/') + SocketSuffix, (HttpContext context, PlaybackEndpoint endpoint) => endpoint.PlayAsync(context));
        endpoints.MapGet(InfoPath, (HttpContext context, PlaybackEndpoint endpoint) => endpoint.InfoAsync(context));
        return endpoints;
    }
}
