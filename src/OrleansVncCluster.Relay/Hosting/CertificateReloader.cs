using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using OrleansVncCluster.Relay.Diagnostics;

namespace OrleansVncCluster.Relay.Hosting;

/// <summary>
/// The public listener's TLS certificate, re-read when its PEM files change (certbot, cert-manager and Vault agents
/// replace them in place). Only NEW handshakes see a new certificate: established TLS sessions keep the keys they
/// negotiated, so live consoles are never touched. A pair that does not load (a half-written file, a key that does
/// not match, an expired certificate) is refused with a warning and the current certificate stays in use, so a
/// botched renewal never takes the listener down.
/// </summary>
public sealed partial class CertificateReloader : IDisposable
{
    /// <summary>Writers replace the two files one after the other: wait for the burst of changes to settle.</summary>
    private static readonly TimeSpan Settle = TimeSpan.FromMilliseconds(300);

    private readonly string _certificateFile;
    private readonly string? _keyFile;
    private readonly TimeSpan _pollInterval;
    private readonly ILogger _logger;
    private readonly List<FileSystemWatcher> _watchers = [];
    private readonly Timer _timer;
    private readonly Lock _gate = new();
    private X509Certificate2 _current;
    private (DateTime, long, DateTime, long) _stamp;
    private (DateTime, long, DateTime, long) _refused;

    /// <summary>Loads the pair now; throws when it does not load, because a node must not start without its certificate.</summary>
    public CertificateReloader(string certificateFile, string? keyFile, TimeSpan pollInterval, ILogger logger)
    {
        _certificateFile = Path.GetFullPath(certificateFile);
        _keyFile = keyFile is { Length: > 0 } ? Path.GetFullPath(keyFile) : null;
        _pollInterval = pollInterval;
        _logger = logger;
        _stamp = Stamp();
        _current = Load(out var problem) ?? throw new InvalidOperationException(
            $"Relay:CertificateFile '{_certificateFile}'{(_keyFile is null ? "" : $" with Relay:KeyFile '{_keyFile}'")} does not load: {problem}");
        LogCertificateLoaded(_logger, Describe(_current));

        // inotify sees replacements at once, including Kubernetes' symlink swaps of a mounted Secret's directory; the
        // poll catches what it cannot (network file systems, a watcher limit reached).
        foreach (var directory in new[] { Path.GetDirectoryName(_certificateFile), _keyFile is null ? null : Path.GetDirectoryName(_keyFile) }.Distinct())
        {
            if (directory is null || !Directory.Exists(directory))
            {
                continue;
            }

            try
            {
                var watcher = new FileSystemWatcher(directory) { IncludeSubdirectories = false, NotifyFilter = NotifyFilters.LastWrite | NotifyFilters.FileName | NotifyFilters.Size | NotifyFilters.CreationTime };
                watcher.Changed += (_, _) => Schedule();
                watcher.Created += (_, _) => Schedule();
                watcher.Renamed += (_, _) => Schedule();
                watcher.EnableRaisingEvents = true;
                _watchers.Add(watcher);
            }
            catch (IOException exception)
            {
                LogWatchUnavailable(_logger, directory, exception.Message, _pollInterval.TotalSeconds);
            }
        }

        _timer = new Timer(_ => Reload(), null, _pollInterval, _pollInterval);
    }

    /// <summary>The certificate new handshakes present.</summary>
    public X509Certificate2 Current => Volatile.Read(ref _current);

    /// <summary>Re-reads the files if they changed since the last look; keeps the current certificate if they do not load.</summary>
    public void Reload()
    {
        lock (_gate)
        {
            var stamp = Stamp();
            if (stamp == _stamp || stamp == _refused)
            {
                return;
            }

            var loaded = Load(out var problem);
            if (loaded is null)
            {
                // Not taken as current: the writer may still be finishing, and its next write changes the stamp again.
                // Remembered so that a pair left broken is reported once, not at every poll.
                _refused = stamp;
                LogCertificateRefused(_logger, _certificateFile, problem, Describe(_current));
                return;
            }

            _stamp = stamp;
            if (loaded.Thumbprint == _current.Thumbprint)
            {
                return;
            }

            // The previous certificate is not disposed: a handshake in flight may still be using it, and it is small.
            Volatile.Write(ref _current, loaded);
            LogCertificateReloaded(_logger, Describe(loaded));
        }
    }

    /// <summary>Stops watching.</summary>
    public void Dispose()
    {
        _timer.Dispose();
        foreach (var watcher in _watchers)
        {
            watcher.Dispose();
        }
    }

    private void Schedule() => _timer.Change(Settle, _pollInterval);

    private X509Certificate2? Load(out string problem)
    {
        problem = "";
        try
        {
            var certificate = X509Certificate2.CreateFromPemFile(_certificateFile, _keyFile);
            if (!certificate.HasPrivateKey)
            {
                problem = "no private key (give Relay:KeyFile, or put the key in the certificate file)";
                return null;
            }

            var now = DateTime.Now;
            if (certificate.NotAfter < now || certificate.NotBefore > now)
            {
                problem = $"not valid now (valid {certificate.NotBefore:u} to {certificate.NotAfter:u})";
                return null;
            }

            // Kestrel checks the extended key usage at every handshake, and .NET decodes that extension on first read
            // into a field it fills in place: handshakes racing on a new certificate could see it half filled and refuse
            // it as "not for server authentication" (a TLS node's first concurrent sessions). Decoded here, once, before
            // any handshake sees the certificate; later reads only copy it.
            foreach (var usage in certificate.Extensions.OfType<X509EnhancedKeyUsageExtension>())
            {
                _ = usage.EnhancedKeyUsages;
            }

            return certificate;
        }
        catch (Exception exception) when (exception is CryptographicException or IOException or UnauthorizedAccessException or ArgumentException)
        {
            // ArgumentException: no PEM block at all (an empty or half-written file). The message names the PEM problem
            // or the key mismatch; it never contains key material.
            problem = exception.Message;
            return null;
        }
    }

    private (DateTime, long, DateTime, long) Stamp()
    {
        var certificate = new FileInfo(_certificateFile);
        var key = _keyFile is null ? null : new FileInfo(_keyFile);
        return (certificate.Exists ? certificate.LastWriteTimeUtc : default, certificate.Exists ? certificate.Length : -1,
            key is { Exists: true } ? key.LastWriteTimeUtc : default, key is { Exists: true } ? key.Length : -1);
    }

    private static string Describe(X509Certificate2 certificate) =>
        $"{certificate.Subject} (thumbprint {certificate.Thumbprint}, expires {certificate.NotAfter.ToUniversalTime():u})";

    [LoggerMessage(EventId = EventIds.TlsCertificateLoaded, Level = LogLevel.Information, Message = "TLS certificate {Certificate} loaded for the public listener")]
    private static partial void LogCertificateLoaded(ILogger logger, string certificate);

    [LoggerMessage(EventId = EventIds.TlsCertificateReloaded, Level = LogLevel.Information,
        Message = "TLS certificate reloaded: new handshakes present {Certificate}; live sessions keep theirs")]
    private static partial void LogCertificateReloaded(ILogger logger, string certificate);

    [LoggerMessage(EventId = EventIds.TlsCertificateRefused, Level = LogLevel.Warning,
        Message = "TLS certificate files changed but {CertificateFile} does not load ({Problem}); still presenting {Current}. Replace the certificate and key together, e.g. write both then rename them into place")]
    private static partial void LogCertificateRefused(ILogger logger, string certificateFile, string problem, string current);

    [LoggerMessage(EventId = EventIds.TlsCertificateWatchUnavailable, Level = LogLevel.Warning,
        Message = "Cannot watch {Directory} for certificate changes ({Problem}); polling every {Seconds} s instead")]
    private static partial void LogWatchUnavailable(ILogger logger, string directory, string problem, double seconds);
}
