using System.Globalization;
using System.Text;
using Microsoft.Extensions.Options;
using OrleansVncCluster.Relay.Diagnostics;

namespace OrleansVncCluster.Relay.Tickets;

/// <summary>
/// The secrets this node signs and verifies tickets with: the current one, and previous ones until
/// <see cref="TicketOptions.RotationGrace"/> after the current secret file was last written (the rotation). Files are
/// re-read when their size or write time changes, checked at most every <see cref="TicketOptions.ReloadInterval"/> and
/// at once (at most once a second) when a ticket names a key this node does not know, so a node that got the new
/// secret a moment after another does not refuse the other's fresh tickets for long.
/// </summary>
public sealed partial class TicketKeyRing
{
    private static readonly TimeSpan UnknownKeyReloadSpacing = TimeSpan.FromSeconds(1);

    private readonly IOptionsMonitor<TicketOptions> _options;
    private readonly TimeProvider _time;
    private readonly ILogger<TicketKeyRing> _logger;
    private readonly Lock _reloading = new();
    private readonly DateTimeOffset _startedAt;
    private volatile Snapshot _snapshot = Snapshot.Empty;
    private long _nextCheck;
    private long _nextForcedCheck;

    public TicketKeyRing(IOptionsMonitor<TicketOptions> options, TimeProvider time, ILogger<TicketKeyRing> logger)
    {
        _options = options;
        _time = time;
        _logger = logger;
        _startedAt = time.GetUtcNow();
        options.OnChange(_ => Interlocked.Exchange(ref _nextCheck, 0));
    }

    /// <summary>True when a secret is configured.</summary>
    public bool Enabled => _options.CurrentValue.Enabled;

    /// <summary>The key new tickets are signed with, or null when tickets are off.</summary>
    public TicketKey? SigningKey => Current().Signing;

    /// <summary>The key named <paramref name="keyId"/> if it is still accepted now.</summary>
    public TicketKey? Find(string keyId)
    {
        if (Lookup(Current(), keyId) is { } key)
        {
            return key;
        }

        var now = _time.GetTimestamp();
        var next = Interlocked.Read(ref _nextForcedCheck);
        if (now < next || Interlocked.CompareExchange(ref _nextForcedCheck, now + Ticks(UnknownKeyReloadSpacing), next) != next)
        {
            return null;
        }

        return Lookup(Reload(), keyId);
    }

    private TicketKey? Lookup(Snapshot snapshot, string keyId)
    {
        if (snapshot.Signing is { } signing && signing.Id == keyId)
        {
            return signing;
        }

        var now = _time.GetUtcNow();
        foreach (var (key, until) in snapshot.Previous)
        {
            if (key.Id == keyId && now < until)
            {
                return key;
            }
        }

        return null;
    }

    private Snapshot Current()
    {
        var now = _time.GetTimestamp();
        return now < Interlocked.Read(ref _nextCheck) ? _snapshot : Reload();
    }

    private Snapshot Reload()
    {
        lock (_reloading)
        {
            var settings = _options.CurrentValue;
            Interlocked.Exchange(ref _nextCheck, _time.GetTimestamp() + Ticks(settings.ReloadInterval));
            var stamp = Stamp(settings);
            if (stamp == _snapshot.Stamp)
            {
                return _snapshot;
            }

            try
            {
                var snapshot = Load(settings, stamp);
                _snapshot = snapshot;
                LogKeysLoaded(_logger, snapshot.Signing?.Id ?? "(none)", string.Join(", ", snapshot.Previous.Select(p =>
                    $"{p.Key.Id} until {p.AcceptedUntil.ToString("u", CultureInfo.InvariantCulture)}")));
            }
            catch (Exception exception) when (exception is IOException or UnauthorizedAccessException or InvalidDataException)
            {
                // Half-written during a rotation, or briefly missing: keep what worked and try again at the next check.
                LogKeysFailed(_logger, exception.Message);
            }

            return _snapshot;
        }
    }

    private Snapshot Load(TicketOptions settings, string stamp)
    {
        TicketKey? signing = null;
        // An inline secret (systemd credential) has no write time: its rotation is this node's start.
        var rotatedAt = _startedAt;
        if (settings.SecretFile is { Length: > 0 } file)
        {
            signing = new TicketKey(ReadSecret(file));
            rotatedAt = new DateTimeOffset(File.GetLastWriteTimeUtc(file), TimeSpan.Zero);
        }
        else if (settings.Secret is { Length: > 0 } inline)
        {
            signing = new TicketKey(Checked(inline.Trim(), "Tickets:Secret"));
        }

        var until = rotatedAt + settings.RotationGrace;
        var previous = settings.PreviousSecretFiles
            .Select(path => (Key: new TicketKey(ReadSecret(path)), AcceptedUntil: until))
            .Where(p => p.Key.Id != signing?.Id)
            .ToList();
        return new Snapshot(signing, previous, stamp);
    }

    private static string ReadSecret(string path) => Checked(File.ReadAllText(path).Trim(), path);

    private static string Checked(string secret, string where) => secret.Length >= TicketOptions.MinSecretLength
        ? secret
        : throw new InvalidDataException($"the ticket secret in {where} is shorter than {TicketOptions.MinSecretLength} characters");

    /// <summary>What the loaded keys depend on: file names, sizes and write times, and the inline secret's presence.</summary>
    private static string Stamp(TicketOptions settings)
    {
        var stamp = new StringBuilder();
        stamp.Append(settings.Secret?.Length ?? 0).Append('|').Append(settings.RotationGrace.Ticks);
        foreach (var path in (string?[])[settings.SecretFile, .. settings.PreviousSecretFiles])
        {
            if (path is { Length: > 0 })
            {
                var info = new FileInfo(path);
                stamp.Append('|').Append(path).Append(':').Append(info.Exists ? info.Length : -1)
                    .Append(':').Append(info.Exists ? info.LastWriteTimeUtc.Ticks : 0);
            }
        }

        if (settings.Secret is { Length: > 0 } inline)
        {
            stamp.Append('|').Append(new TicketKey(inline.Trim()).Id);
        }

        return stamp.ToString();
    }

    private long Ticks(TimeSpan span) => (long)(span.TotalSeconds * _time.TimestampFrequency);

    private sealed record Snapshot(TicketKey? Signing, IReadOnlyList<(TicketKey Key, DateTimeOffset AcceptedUntil)> Previous, string Stamp)
    {
        public static readonly Snapshot Empty = new(null, [], "");
    }

    [LoggerMessage(EventId = EventIds.TicketKeysLoaded, Level = LogLevel.Information,
        Message = "Ticket keys loaded: signing with key {KeyId}; previous keys accepted: {PreviousKeys}")]
    private static partial void LogKeysLoaded(ILogger logger, string keyId, string previousKeys);

    [LoggerMessage(EventId = EventIds.TicketKeysFailed, Level = LogLevel.Warning,
        Message = "Ticket secrets could not be re-read, keeping the keys loaded before: {Error}")]
    private static partial void LogKeysFailed(ILogger logger, string error);
}
