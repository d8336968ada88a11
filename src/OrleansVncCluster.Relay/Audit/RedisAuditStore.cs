using System.Text.Json;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using StackExchange.Redis;

namespace OrleansVncCluster.Relay.Audit;

/// <summary>
/// The cluster's history in Redis, next to Orleans' own keys (<c>{ServiceId}/audit/...</c>):
/// <list type="bullet">
/// <item><c>rec/{id}</c>: the record's JSON, expiring <see cref="AuditOptions.Retention"/> after its last write;</item>
/// <item><c>index</c>: a sorted set of every record id scored by start time (unix ms), trimmed by retention on each write;</item>
/// <item><c>by/vm/{id or name}</c>, <c>by/user/{user}</c>, <c>by/client/{address}</c>: the same for one value each, so a
/// filtered query reads one small set instead of scanning the history; each expires with its newest record;</item>
/// <item><c>open/{silo address}</c> and <c>open-silos</c>: the records still open per silo process, which a survivor
/// closes when membership declares that silo dead (<see cref="LostNodeSweeper"/>).</item>
/// </list>
/// A query is one range read of a sorted set (O(log n + page) however long the history: about 1 M records at 90 days
/// of 11 000 sessions a day) plus one MGET per page of ids. Only plain commands, no MULTI or scripts, so any Redis the
/// cluster runs on (Sentinel included) will do.
/// </summary>
public sealed class RedisAuditStore : IAuditStore
{
    /// <summary>Index entries a query reads at most before it returns what it found (a filter the chosen index does not
    /// cover is checked record by record).</summary>
    public const int MaxScanned = 50_000;

    private const int Page = 500;
    private readonly IConnectionMultiplexer _redis;
    private readonly IOptionsMonitor<AuditOptions> _options;
    private readonly TimeProvider _time;
    private readonly string _prefix;

    /// <summary>A store in <paramref name="redis"/> under the cluster's service id.</summary>
    public RedisAuditStore(IConnectionMultiplexer redis, IOptions<ClusterOptions> cluster, IOptionsMonitor<AuditOptions> options, TimeProvider time, ILocalSiloDetails silo)
    {
        ArgumentNullException.ThrowIfNull(cluster);
        ArgumentNullException.ThrowIfNull(silo);
        _redis = redis;
        _options = options;
        _time = time;
        _prefix = $"{cluster.Value.ServiceId}/audit/";
        Silo = silo.SiloAddress.ToParsableString();
    }

    /// <summary>This process's silo address: its open records are listed under it.</summary>
    public string Silo { get; }

    /// <inheritdoc/>
    public bool Durable => true;

    /// <inheritdoc/>
    public bool Available => _redis.IsConnected;

    private IDatabase Database => _redis.GetDatabase();

    /// <inheritdoc/>
    public async Task WriteAsync(IReadOnlyList<AuditWrite> writes, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(writes);
        var retention = _options.CurrentValue.Retention;
        var cutoff = (double)(_time.GetUtcNow() - retention).ToUnixTimeMilliseconds();
        var batch = Database.CreateBatch();
        var pending = new List<Task>();
        var trimmed = new HashSet<RedisKey>();
        foreach (var (record, stage) in writes)
        {
            RedisValue id = record.Id;
            var score = record.Start.ToUnixTimeMilliseconds();
            pending.Add(batch.StringSetAsync(RecordKey(record.Id), JsonSerializer.SerializeToUtf8Bytes(record, AuditJsonContext.Default.AuditRecord), retention));
            foreach (var key in IndexKeys(record))
            {
                pending.Add(batch.SortedSetAddAsync(key, id, score));
                if (trimmed.Add(key))
                {
                    pending.Add(batch.SortedSetRemoveRangeByScoreAsync(key, double.NegativeInfinity, cutoff, Exclude.Stop));
                    if (key != Key("index"))
                    {
                        pending.Add(batch.KeyExpireAsync(key, retention));
                    }
                }
            }

            if (stage == AuditStage.Closed)
            {
                pending.Add(batch.SetRemoveAsync(OpenKey(Silo), id));
            }
            else
            {
                pending.Add(batch.SetAddAsync(OpenKey(Silo), id));
                pending.Add(batch.SetAddAsync(Key("open-silos"), Silo));
            }
        }

        batch.Execute();
        await Task.WhenAll(pending).WaitAsync(cancellationToken);
    }

    /// <inheritdoc/>
    public void Rehearse(AuditRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        // A record's first encoding builds its JSON metadata, about 250 methods a cold node otherwise compiles under its
        // first users' sessions (docs/benchmarks.md, the cold node).
        _ = JsonSerializer.SerializeToUtf8Bytes(record, AuditJsonContext.Default.AuditRecord);
    }

    /// <inheritdoc/>
    public async Task<IReadOnlyList<AuditRecord>> QueryAsync(AuditQuery query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        var database = Database;
        var index = await ChooseIndexAsync(database, query).WaitAsync(cancellationToken);
        var cutoff = (_time.GetUtcNow() - _options.CurrentValue.Retention).ToUnixTimeMilliseconds();
        double from = Math.Max(cutoff, query.Since?.ToUnixTimeMilliseconds() ?? long.MinValue);
        double to = query.Until?.ToUnixTimeMilliseconds() ?? double.PositiveInfinity;
        // With at most one of vm, user and client the index answers the query exactly: read just the limit (pages go
        // on only past records that expired before their index entry was trimmed). With more, read in bigger pages.
        var covered = new[] { query.Vm, query.User, query.Client }.Count(f => f is not null) <= 1;
        var page = covered ? query.Limit : Page;
        var found = new List<AuditRecord>();
        for (var skip = 0; skip < MaxScanned && found.Count < query.Limit; skip += page)
        {
            var ids = await database.SortedSetRangeByScoreAsync(index, from, to, Exclude.None, Order.Descending, skip, page).WaitAsync(cancellationToken);
            var records = await ReadAsync(database, ids).WaitAsync(cancellationToken);
            found.AddRange(records.Where(r => r is not null && r.Matches(query)).Take(query.Limit - found.Count)!);
            if (ids.Length < page)
            {
                break;
            }
        }

        return found;
    }

    /// <summary>Silo addresses (parsable form) that have records still open.</summary>
    public async Task<IReadOnlyList<string>> OpenSilosAsync() =>
        [.. (await Database.SetMembersAsync(Key("open-silos"))).Select(v => v.ToString())];

    /// <summary>
    /// Closes the open records of <paramref name="silo"/>, a silo membership declared dead, with end = <paramref name="detectedAt"/>
    /// and "node lost"; returns how many it closed. Safe to run twice or on two survivors at once: a closed record is left
    /// as it is, and the dead silo writes nothing more.
    /// </summary>
    public async Task<int> CloseLostAsync(string silo, DateTimeOffset detectedAt)
    {
        var database = Database;
        var openKey = OpenKey(silo);
        var ids = await database.SetMembersAsync(openKey);
        var closed = 0;
        var retention = _options.CurrentValue.Retention;
        foreach (var chunk in ids.Chunk(Page))
        {
            var records = await ReadAsync(database, chunk);
            var writes = records.Where(r => r is { IsClosed: false })
                .Select(r => database.StringSetAsync(RecordKey(r!.Id), JsonSerializer.SerializeToUtf8Bytes(r.ClosedForLostNode(detectedAt), AuditJsonContext.Default.AuditRecord), retention))
                .ToList();
            await Task.WhenAll(writes);
            closed += writes.Count;
            await database.SetRemoveAsync(openKey, chunk);
        }

        await database.SetRemoveAsync(Key("open-silos"), silo);
        return closed;
    }

    private async Task<AuditRecord?[]> ReadAsync(IDatabase database, RedisValue[] ids)
    {
        if (ids.Length == 0)
        {
            return [];
        }

        var values = await database.StringGetAsync([.. ids.Select(id => RecordKey(id.ToString()))]);
        return [.. values.Select(Parse)];
    }

    private static AuditRecord? Parse(RedisValue value)
    {
        if (value.IsNull)
        {
            // Expired (retention) while its index entry waits for the next trim.
            return null;
        }

        try
        {
            return JsonSerializer.Deserialize((byte[])value!, AuditJsonContext.Default.AuditRecord);
        }
        catch (JsonException)
        {
            // Not ours (written by hand or by a future version with another shape): skip it rather than fail the query.
            return null;
        }
    }

    /// <summary>The smallest index that covers one of the query's filters (the others are checked per record).</summary>
    private async Task<RedisKey> ChooseIndexAsync(IDatabase database, AuditQuery query)
    {
        RedisKey[] candidates =
        [
            .. new[] { ("vm", query.Vm), ("user", query.User), ("client", query.Client) }
                .Where(c => c.Item2 is not null).Select(c => ByKey(c.Item1, c.Item2!)),
        ];
        if (candidates.Length == 0)
        {
            return Key("index");
        }

        if (candidates.Length == 1)
        {
            return candidates[0];
        }

        var sizes = await Task.WhenAll(candidates.Select(key => database.SortedSetLengthAsync(key)));
        return candidates[Array.IndexOf(sizes, sizes.Min())];
    }

    private IEnumerable<RedisKey> IndexKeys(AuditRecord record)
    {
        yield return Key("index");
        foreach (var vm in new[] { record.Vm.Id, record.Vm.Name }.Where(v => !string.IsNullOrEmpty(v)).Distinct(StringComparer.Ordinal))
        {
            yield return ByKey("vm", vm!);
        }

        if (!string.IsNullOrEmpty(record.User))
        {
            yield return ByKey("user", record.User);
        }

        yield return ByKey("client", record.Client);
    }

    private RedisKey Key(string name) => _prefix + name;

    private RedisKey RecordKey(string id) => _prefix + "rec/" + id;

    private RedisKey ByKey(string kind, string value) => _prefix + "by/" + kind + "/" + value;

    private RedisKey OpenKey(string silo) => _prefix + "open/" + silo;
}
