using System.Collections.Concurrent;
using Microsoft.Extensions.Options;
using OrleansVncCluster.Relay.Audit;

namespace OrleansVncCluster.Relay.Recording;

/// <summary>The recordings index of a node without Redis (embedded mode, one node): in this process, gone when it stops
/// (the files stay, and are found again only by their id's file name).</summary>
public sealed class MemoryRecordingIndex(IOptionsMonitor<RecordingOptions> options, TimeProvider time) : IRecordingIndex
{
    private readonly ConcurrentDictionary<string, RecordingEntry> _entries = new(StringComparer.Ordinal);

    /// <inheritdoc/>
    public Task PutAsync(RecordingEntry entry, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(entry);
        _entries[entry.Id] = entry;
        return Task.CompletedTask;
    }

    /// <inheritdoc/>
    public Task<RecordingEntry?> GetAsync(string id, CancellationToken cancellationToken) =>
        Task.FromResult(_entries.TryGetValue(id, out var entry) && Kept(entry) ? entry : null);

    /// <inheritdoc/>
    public Task<IReadOnlyList<RecordingEntry>> QueryAsync(AuditQuery query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        IReadOnlyList<RecordingEntry> found = [.. _entries.Values.Where(e => Kept(e) && e.Matches(query)).OrderByDescending(e => e.Start).Take(query.Limit)];
        return Task.FromResult(found);
    }

    /// <inheritdoc/>
    public Task RemoveAsync(string id, CancellationToken cancellationToken)
    {
        _entries.TryRemove(id, out _);
        return Task.CompletedTask;
    }

    private bool Kept(RecordingEntry entry) => entry.Start >= time.GetUtcNow() - options.CurrentValue.Retention;
}
