namespace OrleansVncCluster.Relay.Audit;

/// <summary>Where the history is kept: Redis for the cluster (<see cref="RedisAuditStore"/>), memory without one (<see cref="MemoryAuditStore"/>).</summary>
public interface IAuditStore
{
    /// <summary>True when records survive a restart of the node (Redis); false for the in-memory store.</summary>
    bool Durable { get; }

    /// <summary>False while the store cannot take writes (Redis disconnected): the writer then drops at once instead of waiting.</summary>
    bool Available { get; }

    /// <summary>Writes records as they stand, in order. Throws when the store fails; the writer counts and drops.</summary>
    Task WriteAsync(IReadOnlyList<AuditWrite> writes, CancellationToken cancellationToken);

    /// <summary>
    /// Does for <paramref name="record"/> what <see cref="WriteAsync"/> does on the node's side (its encoding)
    /// and stores nothing: the start-up rehearsal's sessions (Node/StartupRehearsal) leave no record, but a node's first
    /// users should not be the ones who pay for that code's first runs.
    /// </summary>
    void Rehearse(AuditRecord record)
    {
    }

    /// <summary>The records that match <paramref name="query"/>, newest start first, at most its limit.</summary>
    Task<IReadOnlyList<AuditRecord>> QueryAsync(AuditQuery query, CancellationToken cancellationToken);
}
