using System.Threading.Channels;
using Microsoft.Extensions.Options;
using OrleansVncCluster.Relay.Diagnostics;

namespace OrleansVncCluster.Relay.Audit;

/// <summary>
/// The node's way into the history: sessions hand their record to <see cref="Write"/>, which only puts it in a bounded
/// queue and never waits or throws, so the history can never slow down, block or fail a session. One background
/// writer drains the queue in batches into the store. When the queue is full, or the store is down or fails, writes are
/// dropped and counted (<see cref="AuditMetrics"/>) with a warning at most every <see cref="WarningInterval"/>; every
/// write is a whole record, so the next write of the same session (its checkpoint or its end) repairs an earlier loss.
/// </summary>
public sealed partial class AuditTrail : BackgroundService
{
    /// <summary>The longest a batch may take in the store before it counts as failed.</summary>
    public static readonly TimeSpan WriteTimeout = TimeSpan.FromSeconds(5);

    /// <summary>Drop warnings are logged at most this often (with the count since the last one).</summary>
    public static readonly TimeSpan WarningInterval = TimeSpan.FromSeconds(30);

    /// <summary>On shutdown, how long the writer may take to store what sessions ending in the drain left in the queue.</summary>
    public static readonly TimeSpan FlushTimeout = TimeSpan.FromSeconds(5);

    private const int MaxBatch = 256;
    private readonly Channel<AuditWrite> _queue;
    private readonly IAuditStore _store;
    private readonly AuditMetrics _metrics;
    private readonly TimeProvider _time;
    private readonly ILogger<AuditTrail> _logger;
    private readonly Lock _warningGate = new();
    private long _lastWarning = long.MinValue;
    private long _unreported;

    /// <summary>A trail into <paramref name="store"/> with a queue of <see cref="AuditOptions.QueueCapacity"/> writes.</summary>
    public AuditTrail(IAuditStore store, AuditMetrics metrics, IOptions<AuditOptions> options, TimeProvider time, ILogger<AuditTrail> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        _store = store;
        _metrics = metrics;
        _time = time;
        _logger = logger;
        // Wait mode only so that TryWrite says "full" (DropWrite would report success for the item it drops).
        _queue = Channel.CreateBounded<AuditWrite>(new BoundedChannelOptions(options.Value.QueueCapacity)
        {
            FullMode = BoundedChannelFullMode.Wait,
            SingleReader = true,
        });
    }

    /// <summary>True when records survive the node (Redis).</summary>
    public bool Durable => _store.Durable;

    /// <summary>Queues a write of <paramref name="record"/>; false (and counted) when the queue is full. Never blocks.</summary>
    public bool Write(AuditRecord record, AuditStage stage)
    {
        if (_queue.Writer.TryWrite(new AuditWrite(record, stage)))
        {
            return true;
        }

        _metrics.QueueFull();
        WarnDropped(1, "the queue is full (Audit:QueueCapacity): the store is slower than sessions start and end");
        return false;
    }

    /// <summary>Runs what the store would do with <paramref name="record"/> and stores nothing (<see cref="IAuditStore.Rehearse"/>).</summary>
    public void Rehearse(AuditRecord record) => _store.Rehearse(record);

    /// <inheritdoc/>
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var batch = new List<AuditWrite>(MaxBatch);
        try
        {
            while (await _queue.Reader.WaitToReadAsync(stoppingToken))
            {
                await DrainAsync(batch, CancellationToken.None);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping: the rest is flushed in StopAsync.
        }
    }

    /// <inheritdoc/>
    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);

        // Sessions closed by the drain (which runs before any service stops) queued their last writes: store them.
        _queue.Writer.TryComplete();
        using var deadline = new CancellationTokenSource(FlushTimeout, _time);
        try
        {
            await DrainAsync(new List<AuditWrite>(MaxBatch), deadline.Token);
        }
        catch (OperationCanceledException)
        {
            // Out of time: what is left stays open in the history and a survivor closes it as "node lost".
        }
    }

    private async Task DrainAsync(List<AuditWrite> batch, CancellationToken cancellationToken)
    {
        while (true)
        {
            batch.Clear();
            while (batch.Count < MaxBatch && _queue.Reader.TryRead(out var write))
            {
                batch.Add(write);
            }

            if (batch.Count == 0)
            {
                return;
            }

            await StoreAsync(batch, cancellationToken);
        }
    }

    private async Task StoreAsync(List<AuditWrite> batch, CancellationToken cancellationToken)
    {
        if (!_store.Available)
        {
            // A disconnected multiplexer would hold each command for its timeout: drop at once instead.
            _metrics.StoreUnavailable(batch.Count);
            WarnDropped(batch.Count, "the store is unavailable (Redis disconnected)");
            return;
        }

        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(WriteTimeout);
            await _store.WriteAsync(batch, timeout.Token);
            _metrics.RecordsWritten(batch.Count);
        }
        catch (Exception exception) when (exception is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            _metrics.StoreUnavailable(batch.Count);
            // The type only: a Redis exception's text can be long, and nothing in it is needed to see that Redis failed.
            WarnDropped(batch.Count, $"the store failed ({exception.GetType().Name})");
        }
    }

    private void WarnDropped(int count, string why)
    {
        long total;
        lock (_warningGate)
        {
            _unreported += count;
            var now = _time.GetTimestamp();
            if (_lastWarning != long.MinValue && _time.GetElapsedTime(_lastWarning, now) < WarningInterval)
            {
                return;
            }

            (_lastWarning, total, _unreported) = (now, _unreported, 0);
        }

        LogDropped(_logger, total, why);
    }

    [LoggerMessage(EventId = EventIds.AuditWritesDropped, Level = LogLevel.Warning,
        Message = "Session history: dropped {Count} record write(s) because {Why}; sessions are not affected, their records may be incomplete (vnc_relay_audit_records_dropped_total)")]
    private static partial void LogDropped(ILogger logger, long count, string why);
}
