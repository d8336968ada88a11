using System.Collections.Concurrent;
using System.Text.Json;
using Microsoft.Extensions.Options;
using OrleansVncCluster.Relay.Diagnostics;

namespace OrleansVncCluster.Relay.Recording;

/// <summary>
/// This node's recorder: decides which sessions are recorded (Recording:Mode, Recording:Enterprises, the ticket's ask),
/// opens their files in Recording:Directory and flushes every open recording once a second from one timer for the node
/// (not one per session), so a node killed mid-session loses at most about a second of each (docs/RECORDING.md).
/// </summary>
public sealed partial class Recorder(
    IOptionsMonitor<RecordingOptions> options, IRecordingIndex index, ILocalSiloDetails silo, RecordingMetrics metrics, TimeProvider time, ILogger<Recorder> logger)
    : BackgroundService
{
    /// <summary>How often open recordings are handed to the operating system: what a node's death may lose of each.</summary>
    public static readonly TimeSpan FlushInterval = TimeSpan.FromSeconds(1);

    /// <summary>How often this node deletes its recordings past Recording:Retention or over Recording:MaxDiskBytes.</summary>
    public static readonly TimeSpan SweepInterval = TimeSpan.FromMinutes(1);

    /// <summary>The file buffer of one recording: a second of a busy desktop mostly fits, so writes are few and large.</summary>
    private const int FileBufferBytes = 64 * 1024;

    private readonly ConcurrentDictionary<string, (SessionRecorder Recorder, RecordingEntry Entry)> _open = new(StringComparer.Ordinal);

    // Bytes of this node's finished recordings: counted by each sweep, grown as recordings finish. With the open ones'
    // bytes it tells a session's start whether the budget is near, so only then does it read the directory.
    private long _finishedBytes;

    /// <summary>Recordings open on this node now.</summary>
    public int Open => _open.Count;

    /// <summary>Whether a session of <paramref name="enterprise"/> is recorded (<see cref="RecordingOptions.ModeFor"/>).</summary>
    public RecordingMode ModeFor(string? enterprise, bool ticketAsks) => options.CurrentValue.ModeFor(enterprise, ticketAsks);

    /// <summary>Why a ticket may not ask for a recording on this node, or null when it may (<see cref="RecordingOptions.RefusesTicketAsk"/>).</summary>
    public string? RefusesTicketAsk() => options.CurrentValue.RefusesTicketAsk();

    /// <summary>Opens a recording of <paramref name="subject"/>: its file and Metadata record. Never throws for the disk's
    /// failures: they are a reason.</summary>
    public RecordingStart Start(RecordingSubject subject)
    {
        ArgumentNullException.ThrowIfNull(subject);
        var settings = options.CurrentValue;
        if (!settings.Configured)
        {
            return Failed(subject, "not_configured", "recording is not configured on this relay node");
        }

        if (settings.MaxDiskBytes > 0 && DiskBytes() >= settings.MaxDiskBytes && SweepForStart(settings) >= settings.MaxDiskBytes)
        {
            return Failed(subject, "disk_budget", $"this node's recordings take all of Recording:MaxDiskBytes ({settings.MaxDiskBytes} bytes) and none can be deleted");
        }

        var id = Guid.CreateVersion7().ToString("N");
        var path = System.IO.Path.Combine(settings.Directory!, id + RecordingFormat.FileExtension);
        FileStream? stream = null;
        try
        {
            Directory.CreateDirectory(settings.Directory!);
            stream = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.Read, FileBufferBytes);
            var writer = new RecordingFileWriter(stream, time);
            var metadata = new RecordingMetadata
            {
                Id = id,
                SessionId = subject.SessionId,
                VmId = subject.VmId,
                VmName = subject.VmName,
                Enterprise = subject.Enterprise,
                User = subject.User,
                Client = subject.Client,
                Node = silo.Name,
                Start = time.GetUtcNow(),
                KeyValues = settings.IncludeKeyValues,
            };
            writer.Write(RecordingRecordKind.Metadata, JsonSerializer.SerializeToUtf8Bytes(metadata, RecordingJsonContext.Default.RecordingMetadata));
            var recorder = new SessionRecorder(id, path, writer, settings, time, Closed);
            var entry = new RecordingEntry
            {
                Id = id,
                SessionId = subject.SessionId,
                Vm = new Audit.AuditVm { Id = subject.VmId, Name = subject.VmName, Enterprise = subject.Enterprise },
                User = subject.User,
                Client = subject.Client,
                Node = silo.Name,
                Start = metadata.Start,
                File = System.IO.Path.GetFileName(path),
                Bytes = writer.BytesWritten,
            };
            _open[id] = (recorder, entry);
            Index(entry);
            metrics.Started();
            LogStarted(logger, subject.SessionId, id, path);
            return new RecordingStart(recorder, null, null);
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            stream?.Dispose();
            return Failed(subject, "unwritable", $"the relay cannot write its recording ({exception.Message})");
        }
    }

    /// <summary>Counts and logs a recording that could not start or stopped early; <paramref name="reason"/> is what the
    /// user may be told.</summary>
    public RecordingStart Failed(RecordingSubject subject, string label, string reason)
    {
        ArgumentNullException.ThrowIfNull(subject);
        metrics.Failed(label);
        LogFailed(logger, subject.SessionId, label, reason);
        return new RecordingStart(null, reason, label);
    }

    /// <inheritdoc/>
    public override Task StartAsync(CancellationToken cancellationToken)
    {
        var settings = options.CurrentValue;
        if (settings.IncludeKeyValues)
        {
            LogKeyValues(logger);
        }

        return base.StartAsync(cancellationToken);
    }

    /// <summary>Flushes every open recording (the timer's work; tests call it).</summary>
    public void FlushAll()
    {
        foreach (var (recorder, _) in _open.Values)
        {
            recorder.Flush();
        }
    }

    /// <inheritdoc/>
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(FlushInterval, time);
        try
        {
            // At once, not a tick later: the first sweep also counts what earlier runs left, which starts rely on.
            await Task.Yield();
            await SweepAsync(stoppingToken);
            var swept = time.GetTimestamp();
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                FlushAll();
                if (time.GetElapsedTime(swept) >= SweepInterval)
                {
                    swept = time.GetTimestamp();
                    await SweepAsync(stoppingToken);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping: each session's owner closes its recording.
        }
    }

    /// <summary>Deletes this node's recordings older than Recording:Retention, then the oldest finished ones until the rest
    /// fit Recording:MaxDiskBytes (open ones are never deleted); forgets them in the index. Returns the bytes left.</summary>
    public async Task<long> SweepAsync(CancellationToken cancellationToken)
    {
        var deleted = new List<string>();
        var left = Sweep(options.CurrentValue, deleted);
        await ForgetAsync(deleted, cancellationToken);
        return left;
    }

    /// <summary>What this node's recordings take on disk, as far as it counted: the finished ones as of the last sweep
    /// plus those finished since, and the open ones as written so far.</summary>
    public long DiskBytes()
    {
        var total = Interlocked.Read(ref _finishedBytes);
        foreach (var (recorder, _) in _open.Values)
        {
            total += recorder.Bytes;
        }

        return total;
    }

    /// <summary>A session's start found the budget reached by the count: sweep now, and forget what went in the background
    /// (the session does not wait on Redis).</summary>
    private long SweepForStart(RecordingOptions settings)
    {
        var deleted = new List<string>();
        var left = Sweep(settings, deleted);
        if (deleted.Count > 0)
        {
            _ = ForgetAsync(deleted, CancellationToken.None);
        }

        return left;
    }

    private async Task ForgetAsync(List<string> deleted, CancellationToken cancellationToken)
    {
        foreach (var id in deleted)
        {
            try
            {
                await index.RemoveAsync(id, cancellationToken);
            }
            catch (Exception exception) when (exception is StackExchange.Redis.RedisException or TimeoutException)
            {
                // The entry expires with its retention anyway; a budget deletion leaves it pointing at nothing until then.
                LogIndexFailed(logger, id, exception.GetType().Name);
            }
        }
    }

    private long Sweep(RecordingOptions settings, List<string>? deleted = null)
    {
        if (!settings.Configured || !Directory.Exists(settings.Directory))
        {
            return 0;
        }

        var cutoff = time.GetUtcNow() - settings.Retention;
        var files = new DirectoryInfo(settings.Directory!).GetFiles("*" + RecordingFormat.FileExtension)
            .OrderBy(f => f.Name, StringComparer.Ordinal) // ids sort by their start time (UUIDv7)
            .ToList();
        var total = files.Sum(f => f.Length);
        var open = 0L;
        foreach (var file in files)
        {
            var id = System.IO.Path.GetFileNameWithoutExtension(file.Name);
            var expired = file.LastWriteTimeUtc < cutoff.UtcDateTime;
            if (_open.ContainsKey(id))
            {
                open += file.Length;
                continue;
            }

            if (!expired && (settings.MaxDiskBytes == 0 || total <= settings.MaxDiskBytes))
            {
                continue;
            }

            // Read before the delete: FileInfo forgets its length on Delete, and asking again throws for a missing file.
            var length = file.Length;
            try
            {
                file.Delete();
                total -= length;
                deleted?.Add(id);
                LogDeleted(logger, id, length, expired ? "Recording:Retention" : "Recording:MaxDiskBytes");
            }
            catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
            {
                LogIndexFailed(logger, id, exception.GetType().Name);
            }
        }

        // Open recordings count by their writers (DiskBytes); a file that finished during this sweep is counted twice
        // until the next one, which errs towards sweeping early.
        Interlocked.Exchange(ref _finishedBytes, total - open);
        return total;
    }

    /// <summary>Whether <paramref name="id"/> is one this recorder could have made (32 lower-case hex digits): nothing else
    /// ever reaches the file system, so no id names a file outside Recording:Directory ("../", "/", spaces).</summary>
    public static bool IsRecordingId(string? id) => id is { Length: 32 } && id.All(char.IsAsciiHexDigitLower);

    /// <summary>The file of recording <paramref name="id"/> on this node, or null when this node has none.</summary>
    public string? LocalPath(string id)
    {
        if (!options.CurrentValue.Configured || !IsRecordingId(id))
        {
            return null;
        }

        var path = System.IO.Path.Combine(options.CurrentValue.Directory!, id + RecordingFormat.FileExtension);
        return File.Exists(path) ? path : null;
    }

    private void Closed(SessionRecorder recorder)
    {
        if (_open.TryRemove(recorder.Id, out var open))
        {
            metrics.Finished(recorder.Bytes);
            Interlocked.Add(ref _finishedBytes, recorder.Bytes);
            Index(open.Entry with { End = time.GetUtcNow(), Bytes = recorder.Bytes, Complete = recorder.Ended });
        }
    }

    /// <summary>Writes an index entry in the background: a slow or absent Redis never holds up a session; a failed
    /// write is logged (the file is still on the node).</summary>
    private void Index(RecordingEntry entry) => _ = IndexAsync(entry);

    private async Task IndexAsync(RecordingEntry entry)
    {
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            await index.PutAsync(entry, timeout.Token);
        }
        catch (Exception exception) when (exception is StackExchange.Redis.RedisException or TimeoutException or OperationCanceledException)
        {
            LogIndexFailed(logger, entry.Id, exception.GetType().Name);
        }
    }

    [LoggerMessage(EventId = EventIds.RecordingDeleted, Level = LogLevel.Information,
        Message = "Recording {RecordingId} deleted ({Bytes} bytes): past {Setting}")]
    private static partial void LogDeleted(ILogger logger, string recordingId, long bytes, string setting);

    [LoggerMessage(EventId = EventIds.RecordingIndexFailed, Level = LogLevel.Warning,
        Message = "Recording {RecordingId}: its index entry was not written ({Error}); the file is on this node")]
    private static partial void LogIndexFailed(ILogger logger, string recordingId, string error);

    [LoggerMessage(EventId = EventIds.RecordingStarted, Level = LogLevel.Information,
        Message = "Session {SessionId}: recording {RecordingId} to {Path}")]
    private static partial void LogStarted(ILogger logger, string sessionId, string recordingId, string path);

    [LoggerMessage(EventId = EventIds.RecordingFailed, Level = LogLevel.Warning,
        Message = "Session {SessionId}: not recorded ({Label}): {Reason}")]
    private static partial void LogFailed(ILogger logger, string sessionId, string label, string reason);

    [LoggerMessage(EventId = EventIds.RecordingKeyValues, Level = LogLevel.Warning,
        Message = "Recording:IncludeKeyValues is on: recordings keep the value of every key pressed, passwords typed into consoles included")]
    private static partial void LogKeyValues(ILogger logger);
}
