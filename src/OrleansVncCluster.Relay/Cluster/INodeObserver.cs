namespace OrleansVncCluster.Relay.Cluster;

/// <summary>What every node can be asked from anywhere in the cluster. Implemented by each node, not by a grain.</summary>
[Alias("vnc.INodeObserver")]
public interface INodeObserver : IGrainObserver
{
    /// <summary>Closes the node's live sessions of <paramref name="token"/> for <paramref name="cause"/> and forgets its cached entry.</summary>
    /// <remarks>Aliased anew when the cause replaced the reason text: a node of the old shape fails the call instead of misreading it.</remarks>
    [Alias("TokenRevokedForCause")]
    Task TokenRevokedAsync(string token, RevocationCause cause);

    /// <summary>The node's live sessions.</summary>
    [Alias("ListSessions")]
    Task<List<SessionInfo>> ListSessionsAsync();

    /// <summary>Closes one session by id; false when the node has no such session.</summary>
    [Alias("CloseSession")]
    Task<bool> CloseSessionAsync(string sessionId, string reason);

    /// <summary>The size of recording <paramref name="recordingId"/>'s file on this node, or -1 when the node has none.</summary>
    [Alias("RecordingLength")]
    Task<long> RecordingLengthAsync(string recordingId);

    /// <summary>Up to <paramref name="count"/> bytes of recording <paramref name="recordingId"/>'s file from
    /// <paramref name="offset"/> (fewer at its end; none past it).</summary>
    [Alias("ReadRecording")]
    Task<byte[]> ReadRecordingAsync(string recordingId, long offset, int count);
}
