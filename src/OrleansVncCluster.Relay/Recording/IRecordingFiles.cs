namespace OrleansVncCluster.Relay.Recording;

/// <summary>Where a recording's bytes are read from, wherever in the cluster the node that wrote it is.</summary>
public interface IRecordingFiles
{
    /// <summary>Opens a recording for reading: a readable, seekable stream the caller disposes, or null when no node has
    /// it (unknown id, deleted by retention, or its node is gone).</summary>
    ValueTask<Stream?> OpenAsync(string recordingId, CancellationToken cancellationToken);
}
