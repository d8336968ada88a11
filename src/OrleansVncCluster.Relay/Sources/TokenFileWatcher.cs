using Microsoft.Extensions.Options;
using OrleansVncCluster.Relay.Diagnostics;
using OrleansVncCluster.Relay.Tokens;

namespace OrleansVncCluster.Relay.Sources;

/// <summary>
/// Loads websockify token files into the token grains at start and whenever they change, so the cron-written files of
/// the legacy setup keep working. A change is noticed by a file watcher (atomic rename or in-place rewrite) and, as a
/// backstop for filesystems without notifications, by polling the files' size and time. Only differences are written.
/// A broken line is logged with file and line and skipped; an unreadable file keeps the tokens it gave before.
/// A file caught mid-write must not become the desired set (issue 12, item 9): a change is applied only when two reads
/// Tokens:FileSettleTime apart give the same tokens, and a change that would remove more than Tokens:FileMaxRemovalShare
/// of the file's tokens is held by the <see cref="MassRemovalGuard"/> until the next read gives the same set. Writers
/// should write a new file and rename it over the old one (docs/OPERATIONS.md).
/// </summary>
internal sealed partial class TokenFileWatcher(
    TokenTable table, IOptions<TokenOptions> options, TokenFilesLoaded loaded, TimeProvider time, ILogger<TokenFileWatcher> logger) : BackgroundService
{
    private readonly SemaphoreSlim _changed = new(0, 1);
    private readonly MassRemovalGuard _guard = new();

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var sources = options.Value.Files.Select(Path.GetFullPath).ToList();
        if (sources.Count == 0)
        {
            return;
        }

        var passwordFiles = options.Value.PasswordFiles.Select(Path.GetFullPath).ToList();

        // A password file's change reloads every token file: the passwords are part of their entries.
        var watchers = sources.Concat(passwordFiles).Select(CreateWatcher).OfType<FileSystemWatcher>().ToList();
        var stamps = new Dictionary<string, string>();
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                foreach (var source in sources)
                {
                    var stamp = string.Join('|', passwordFiles.Prepend(source).Select(Stamp));
                    if (!stamps.TryGetValue(source, out var previous) || previous != stamp)
                    {
                        if (await LoadAsync(source, passwordFiles, stoppingToken))
                        {
                            stamps[source] = stamp;
                        }
                    }
                }

                loaded.MarkDone();

                // Wake on a change notification or at the poll interval, then let a burst of writes settle.
                await _changed.WaitAsync(options.Value.FilePollInterval, stoppingToken);
                await Task.Delay(TimeSpan.FromMilliseconds(100), time, stoppingToken);
            }
        }
        catch (OperationCanceledException)
        {
        }
        finally
        {
            foreach (var watcher in watchers)
            {
                watcher.Dispose();
            }
        }
    }

    private async Task<bool> LoadAsync(string source, IReadOnlyList<string> passwordFiles, CancellationToken cancellationToken)
    {
        var file = new FileTokenSource(source, passwordFiles, time, logger);
        var settings = options.Value;
        try
        {
            var first = await file.LoadAsync(cancellationToken);
            await Task.Delay(settings.FileSettleTime, time, cancellationToken);
            var desired = await file.LoadAsync(cancellationToken);
            if (!SameTokens(first, desired))
            {
                // Still being written: the next change notification or poll reads it again.
                LogUnstable(logger, source, settings.FileSettleTime);
                return false;
            }

            var plan = await table.PlanAsync(file.Name, desired);
            if (_guard.Check(plan, settings.FileMaxRemovalShare) == GuardDecision.Hold)
            {
                LogMassRemovalHeld(logger, source, plan.Removals.Count, plan.PreviousCount, settings.FileMaxRemovalShare);
                return false;
            }

            var result = await table.ApplyAsync(plan, cancellationToken);
            LogLoaded(logger, source, desired.Count, result.Written, result.Removed, file.SkippedLines);
            return result.Failed == 0;
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException || ClusterCall.Failed(exception))
        {
            LogFailed(logger, exception, source);
            return false;
        }
    }

    private static bool SameTokens(IReadOnlyDictionary<string, ConsoleTokenEntry> first, IReadOnlyDictionary<string, ConsoleTokenEntry> second) =>
        first.Count == second.Count && first.All(pair =>
            second.TryGetValue(pair.Key, out var other) && TokenTable.Fingerprint(pair.Value) == TokenTable.Fingerprint(other));

    private FileSystemWatcher? CreateWatcher(string source)
    {
        var directory = Directory.Exists(source) ? source : Path.GetDirectoryName(source);
        if (directory is null || !Directory.Exists(directory))
        {
            return null;
        }

        var watcher = new FileSystemWatcher(directory)
        {
            Filter = Directory.Exists(source) ? "*" : Path.GetFileName(source),
            NotifyFilter = NotifyFilters.FileName | NotifyFilters.LastWrite | NotifyFilters.Size,
        };
        FileSystemEventHandler onChange = (_, _) => Signal();
        watcher.Changed += onChange;
        watcher.Created += onChange;
        watcher.Deleted += onChange;
        watcher.Renamed += (_, _) => Signal();
        watcher.EnableRaisingEvents = true;
        return watcher;
    }

    private void Signal()
    {
        try
        {
            _changed.Release();
        }
        catch (SemaphoreFullException)
        {
            // A change is already signalled; one reload covers both.
        }
    }

    private static string Stamp(string source)
    {
        var files = Directory.Exists(source) ? Directory.GetFiles(source) : File.Exists(source) ? [source] : [];
        return string.Join('|', files.Order(StringComparer.Ordinal).Select(f =>
        {
            var info = new FileInfo(f);
            return $"{f}:{info.Length}:{info.LastWriteTimeUtc.Ticks}";
        }));
    }

    [LoggerMessage(EventId = EventIds.TokenFileLoaded, Level = LogLevel.Information,
        Message = "Token file {Source}: {Tokens} tokens ({Written} written, {Removed} removed, {Skipped} lines skipped)")]
    private static partial void LogLoaded(ILogger logger, string source, int tokens, int written, int removed, int skipped);

    [LoggerMessage(EventId = EventIds.TokenFileUnstable, Level = LogLevel.Warning,
        Message = "Token file {Source} changed between two reads {SettleTime} apart (still being written?): not applied yet; write a new file and rename it over the old one")]
    private static partial void LogUnstable(ILogger logger, string source, TimeSpan settleTime);

    [LoggerMessage(EventId = EventIds.TokenFileMassRemovalHeld, Level = LogLevel.Warning,
        Message = "Token file {Source} would remove {Removals} of {Previous} tokens (more than Tokens:FileMaxRemovalShare {Share:P0}): held; applied when the next read gives the same set")]
    private static partial void LogMassRemovalHeld(ILogger logger, string source, int removals, int previous, double share);

    [LoggerMessage(EventId = EventIds.TokenFileFailed, Level = LogLevel.Error, Message = "Token file {Source} could not be loaded; its previous tokens stay in place")]
    private static partial void LogFailed(ILogger logger, Exception exception, string source);
}
