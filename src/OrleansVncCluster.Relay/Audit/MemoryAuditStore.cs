using Microsoft.Extensions.Options;

namespace OrleansVncCluster.Relay.Audit;

/// <summary>
/// The history of a node without Redis (embedded mode): the newest <see cref="AuditOptions.MemoryRecords"/> records in
/// this process, gone when it stops. Not durable and not shared; enough for <c>make run</c> and a single node's
/// "who is on it". A query scans at most that many records.
/// </summary>
public sealed class MemoryAuditStore(IOptionsMonitor<AuditOptions> options, TimeProvider time) : IAuditStore
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, LinkedListNode<AuditRecord>> _byId = new(StringComparer.Ordinal);

    // Oldest first, in order of first write (sessions are written when they start, so this is start order on one node).
    private readonly LinkedList<AuditRecord> _records = new();

    /// <inheritdoc/>
    public bool Durable => false;

    /// <inheritdoc/>
    public bool Available => true;

    /// <summary>Records held now.</summary>
    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _records.Count;
            }
        }
    }

    /// <inheritdoc/>
    public Task WriteAsync(IReadOnlyList<AuditWrite> writes, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(writes);
        var settings = options.CurrentValue;
        lock (_gate)
        {
            foreach (var write in writes)
            {
                if (_byId.TryGetValue(write.Record.Id, out var node))
                {
                    node.Value = write.Record;
                }
                else
                {
                    _byId[write.Record.Id] = _records.AddLast(write.Record);
                }
            }

            var expired = time.GetUtcNow() - settings.Retention;
            while (_records.First is { } oldest && (_records.Count > settings.MemoryRecords || (oldest.Value.End ?? oldest.Value.Start) < expired))
            {
                _byId.Remove(oldest.Value.Id);
                _records.RemoveFirst();
            }
        }

        return Task.CompletedTask;
    }

    /// <inheritdoc/>
    public Task<IReadOnlyList<AuditRecord>> QueryAsync(AuditQuery query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        var expired = time.GetUtcNow() - options.CurrentValue.Retention;
        List<AuditRecord> matches;
        lock (_gate)
        {
            matches = [.. _records.Where(r => (r.End ?? r.Start) >= expired && r.Matches(query))];
        }

        IReadOnlyList<AuditRecord> newest = [.. matches.OrderByDescending(r => r.Start).ThenByDescending(r => r.Id, StringComparer.Ordinal).Take(query.Limit)];
        return Task.FromResult(newest);
    }
}
