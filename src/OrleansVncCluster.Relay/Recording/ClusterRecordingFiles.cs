using OrleansVncCluster.Relay.Cluster;
using OrleansVncCluster.Relay.Diagnostics;

namespace OrleansVncCluster.Relay.Recording;

/// <summary>
/// <see cref="IRecordingFiles"/> for the whole cluster: the index says which node holds a recording; this node's own
/// files open in place, another node's are copied through its node observer (<see cref="INodeObserver.ReadRecordingAsync"/>,
/// <see cref="ChunkBytes"/> a call) into a temporary file that is deleted when the stream is closed, so the caller always
/// gets a local, seekable stream. A live recording is read up to what its node has flushed.
/// </summary>
public sealed partial class ClusterRecordingFiles(IRecordingIndex index, Recorder recorder, IGrainFactory grains, ILocalSiloDetails silo, ILogger<ClusterRecordingFiles> logger)
    : IRecordingFiles
{
    /// <summary>Bytes one call to another node carries: well under Orleans' message size limit.</summary>
    public const int ChunkBytes = 1024 * 1024;

    /// <summary>How long one call to another node may take.</summary>
    public static readonly TimeSpan CallTimeout = TimeSpan.FromSeconds(10);

    /// <inheritdoc/>
    public async ValueTask<Stream?> OpenAsync(string recordingId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(recordingId);
        if (recorder.LocalPath(recordingId) is { } local)
        {
            return new FileStream(local, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 64 * 1024, FileOptions.Asynchronous);
        }

        if (await index.GetAsync(recordingId, cancellationToken) is not { } entry || entry.Node == silo.Name)
        {
            return null;
        }

        try
        {
            var nodes = await grains.GetGrain<INodeDirectoryGrain>(NodeDirectory.Key).NodesAsync().WaitAsync(CallTimeout, cancellationToken);
            return nodes.FirstOrDefault(n => n.Name == entry.Node) is { } owner ? await CopyAsync(owner.Observer, recordingId, cancellationToken) : null;
        }
        catch (Exception exception) when (exception is OrleansException or TimeoutException or IOException)
        {
            LogFetchFailed(logger, recordingId, entry.Node, exception.GetType().Name);
            return null;
        }
    }

    /// <summary><paramref name="entries"/> with <see cref="RecordingEntry.Cut"/> set on those still open whose node the
    /// directory no longer knows (it dropped a node silent for <see cref="NodeDirectory.Expiry"/>): their node died while
    /// they recorded, so their files end at its last flush and will never get an End record.</summary>
    public async Task<IReadOnlyList<RecordingEntry>> MarkCutAsync(IReadOnlyList<RecordingEntry> entries, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(entries);
        if (entries.All(e => e.End is not null))
        {
            return entries;
        }

        var nodes = await grains.GetGrain<INodeDirectoryGrain>(NodeDirectory.Key).NodesAsync().WaitAsync(CallTimeout, cancellationToken);
        var alive = nodes.Select(n => n.Name).ToHashSet(StringComparer.Ordinal);
        return [.. entries.Select(e => e.End is null && !alive.Contains(e.Node) ? e with { Cut = true } : e)];
    }

    private static async Task<Stream?> CopyAsync(INodeObserver owner, string recordingId, CancellationToken cancellationToken)
    {
        var length = await owner.RecordingLengthAsync(recordingId).WaitAsync(CallTimeout, cancellationToken);
        if (length < 0)
        {
            return null;
        }

        var copy = new FileStream(Path.GetTempFileName(), FileMode.Create, FileAccess.ReadWrite, FileShare.None, 64 * 1024,
            FileOptions.DeleteOnClose | FileOptions.Asynchronous);
        try
        {
            for (long offset = 0; offset < length;)
            {
                var chunk = await owner.ReadRecordingAsync(recordingId, offset, ChunkBytes).WaitAsync(CallTimeout, cancellationToken);
                if (chunk.Length == 0)
                {
                    break;
                }

                await copy.WriteAsync(chunk, cancellationToken);
                offset += chunk.Length;
            }

            copy.Position = 0;
            return copy;
        }
        catch
        {
            await copy.DisposeAsync();
            throw;
        }
    }

    [LoggerMessage(EventId = EventIds.RecordingFetchFailed, Level = LogLevel.Warning,
        Message = "Recording {RecordingId}: fetching it from node {Node} failed ({Error})")]
    private static partial void LogFetchFailed(ILogger logger, string recordingId, string node, string error);
}
