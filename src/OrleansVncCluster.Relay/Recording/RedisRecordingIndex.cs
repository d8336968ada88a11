using System.Text.Json;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using OrleansVncCluster.Relay.Audit;
using StackExchange.Redis;

namespace OrleansVncCluster.Relay.Recording;

/// <summary>
/// The cluster's recordings index in Redis, next to the history (<c>{ServiceId}/recordings/...</c>), the way
/// <see cref="RedisAuditStore"/> keeps records: <c>rec/{id}</c> the entry's JSON, expiring Recording:Retention after its
/// start; <c>index</c> a sorted set of ids scored by start (unix ms), trimmed by retention on each write. A query is one
/// range read of the set and one MGET per page, filtered per entry (recordings are far fewer than sessions).
/// </summary>
public sealed class RedisRecordingIndex(IConnectionMultiplexer redis, IOptions<ClusterOptions> cluster, IOptionsMonitor<RecordingOptions> options, TimeProvider time)
    : IRecordingIndex
{
    private const int Page = 500;
    private readonly string _prefix = $"{cluster.Value.ServiceId}/recordings/";

    private IDatabase Database => redis.GetDatabase();

    /// <inheritdoc/>
    public async Task PutAsync(RecordingEntry entry, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(entry);
        var retention = options.CurrentValue.Retention;
        var expiry = entry.Start + retention - time.GetUtcNow();
        if (expiry <= TimeSpan.Zero)
        {
            return;
        }

        var database = Database;
        await Task.WhenAll(
            database.StringSetAsync(Key("rec/" + entry.Id), JsonSerializer.SerializeToUtf8Bytes(entry, RecordingJsonContext.Default.RecordingEntry), expiry),
            database.SortedSetAddAsync(Key("index"), entry.Id, entry.Start.ToUnixTimeMilliseconds()),
            database.SortedSetRemoveRangeByScoreAsync(Key("index"), double.NegativeInfinity, (time.GetUtcNow() - retention).ToUnixTimeMilliseconds(), Exclude.Stop))
            .WaitAsync(cancellationToken);
    }

    /// <inheritdoc/>
    public async Task<RecordingEntry?> GetAsync(string id, CancellationToken cancellationToken) =>
        Parse(await Database.StringGetAsync(Key("rec/" + id)).WaitAsync(cancellationToken));

    /// <inheritdoc/>
    public async Task<IReadOnlyList<RecordingEntry>> QueryAsync(AuditQuery query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        var database = Database;
        double from = Math.Max((time.GetUtcNow() - options.CurrentValue.Retention).ToUnixTimeMilliseconds(), query.Since?.ToUnixTimeMilliseconds() ?? long.MinValue);
        double to = query.Until?.ToUnixTimeMilliseconds() ?? double.PositiveInfinity;
        var found = new List<RecordingEntry>();
        for (var skip = 0; skip < RedisAuditStore.MaxScanned && found.Count < query.Limit; skip += Page)
        {
            var ids = await database.SortedSetRangeByScoreAsync(Key("index"), from, to, Exclude.None, Order.Descending, skip, Page).WaitAsync(cancellationToken);
            if (ids.Length > 0)
            {
                var values = await database.StringGetAsync([.. ids.Select(id => Key("rec/" + id))]).WaitAsync(cancellationToken);
                found.AddRange(values.Select(Parse).Where(e => e is not null && e.Matches(query)).Take(query.Limit - found.Count)!);
            }

            if (ids.Length < Page)
            {
                break;
            }
        }

        return found;
    }

    /// <inheritdoc/>
    public async Task RemoveAsync(string id, CancellationToken cancellationToken)
    {
        var database = Database;
        await Task.WhenAll(database.KeyDeleteAsync(Key("rec/" + id)), database.SortedSetRemoveAsync(Key("index"), id)).WaitAsync(cancellationToken);
    }

    private RedisKey Key(string name) => _prefix + name;

    private static RecordingEntry? Parse(RedisValue value)
    {
        if (value.IsNull)
        {
            return null;
        }

        try
        {
            return JsonSerializer.Deserialize((byte[])value!, RecordingJsonContext.Default.RecordingEntry);
        }
        catch (JsonException)
        {
            // Not ours (written by hand or by a future version with another shape): skip it rather than fail the query.
            return null;
        }
    }
}
