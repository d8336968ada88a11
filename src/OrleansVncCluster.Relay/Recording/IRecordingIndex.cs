using OrleansVncCluster.Relay.Audit;

namespace OrleansVncCluster.Relay.Recording;

/// <summary>The cluster-wide index of recordings: Redis when the cluster has it (<see cref="RedisRecordingIndex"/>), this
/// node's memory without (<see cref="MemoryRecordingIndex"/>). Entries expire with Recording:Retention.</summary>
public interface IRecordingIndex
{
    /// <summary>Writes an entry as it stands (a recording's start, its end).</summary>
    Task PutAsync(RecordingEntry entry, CancellationToken cancellationToken);

    /// <summary>The entry of <paramref name="id"/>, or null.</summary>
    Task<RecordingEntry?> GetAsync(string id, CancellationToken cancellationToken);

    /// <summary>The entries that match <paramref name="query"/>, newest start first, at most its limit.</summary>
    Task<IReadOnlyList<RecordingEntry>> QueryAsync(AuditQuery query, CancellationToken cancellationToken);

    /// <summary>Forgets <paramref name="id"/> (its file was deleted).</summary>
    Task RemoveAsync(string id, CancellationToken cancellationToken);
}
