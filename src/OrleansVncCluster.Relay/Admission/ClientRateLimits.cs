using System.Threading.RateLimiting;
using Microsoft.Extensions.Options;

namespace OrleansVncCluster.Relay.Admission;

/// <summary>
/// Per-client-address rates on this node: WebSocket handshakes (a token bucket: bursts allowed, a steady rate after) and
/// failed tokens (a fixed window: a guesser gets <see cref="LimitsOptions.MaxFailedTokens"/> tries, then nothing until the
/// window ends), counted per client key and, for IPv6, also per /48 site (<see cref="LimitsOptions.MaxFailedTokensPerIPv6Site"/>).
/// Per node is enough: HAProxy's <c>balance source</c> sends an address to one node, so a client sees one
/// node's budget; without pinning a guesser gains at most a factor of the node count. Partitions of quiet addresses are
/// dropped by <see cref="PartitionedRateLimiter"/> itself, so a flood of distinct addresses does not grow memory for long.
/// </summary>
public sealed class ClientRateLimits : IDisposable
{
    private readonly IOptionsMonitor<LimitsOptions> _options;
    private readonly PartitionedRateLimiter<string> _handshakes;
    private readonly PartitionedRateLimiter<string> _failures;
    private readonly PartitionedRateLimiter<string> _siteFailures;

    public ClientRateLimits(IOptionsMonitor<LimitsOptions> options)
    {
        _options = options;
        // Each partition reads the settings when it is created, so a changed setting reaches addresses as they come back.
        _handshakes = PartitionedRateLimiter.Create<string, string>(client =>
        {
            var settings = _options.CurrentValue;
            return RateLimitPartition.GetTokenBucketLimiter(client, _ => new TokenBucketRateLimiterOptions
            {
                TokenLimit = Math.Max(settings.HandshakeBurst, 1),
                TokensPerPeriod = Math.Max(settings.HandshakesPerSecond, 1),
                ReplenishmentPeriod = TimeSpan.FromSeconds(1),
                QueueLimit = 0,
                AutoReplenishment = true,
            });
        });
        _failures = PartitionedRateLimiter.Create<string, string>(client =>
        {
            var settings = _options.CurrentValue;
            return RateLimitPartition.GetFixedWindowLimiter(client, _ => new FixedWindowRateLimiterOptions
            {
                PermitLimit = Math.Max(settings.MaxFailedTokens, 1),
                Window = settings.FailedTokenWindow,
                QueueLimit = 0,
                AutoReplenishment = true,
            });
        });
        _siteFailures = PartitionedRateLimiter.Create<string, string>(site =>
        {
            var settings = _options.CurrentValue;
            return RateLimitPartition.GetFixedWindowLimiter(site, _ => new FixedWindowRateLimiterOptions
            {
                PermitLimit = Math.Max(settings.MaxFailedTokensPerIPv6Site, 1),
                Window = settings.FailedTokenWindow,
                QueueLimit = 0,
                AutoReplenishment = true,
            });
        });
    }

    /// <summary>Takes one handshake from the client's budget; null when allowed, else how long to wait.</summary>
    public TimeSpan? TryHandshake(string client)
    {
        if (_options.CurrentValue.HandshakesPerSecond <= 0)
        {
            return null;
        }

        using var lease = _handshakes.AttemptAcquire(client);
        return lease.IsAcquired ? null : RetryAfter(lease, TimeSpan.FromSeconds(1));
    }

    /// <summary>
    /// Null while the client may still present tokens; else how long until it may again (no permit is taken).
    /// <paramref name="site"/> is the client's IPv6 /48 (<see cref="Networks.SiteKey"/>), null for IPv4.
    /// </summary>
    public TimeSpan? FailedTokensBlocked(string client, string? site = null)
    {
        var settings = _options.CurrentValue;
        if (settings.MaxFailedTokens > 0)
        {
            using var lease = _failures.AttemptAcquire(client, permitCount: 0);
            if (!lease.IsAcquired)
            {
                return RetryAfter(lease, settings.FailedTokenWindow);
            }
        }

        if (site is not null && settings.MaxFailedTokensPerIPv6Site > 0)
        {
            using var lease = _siteFailures.AttemptAcquire(site, permitCount: 0);
            if (!lease.IsAcquired)
            {
                return RetryAfter(lease, settings.FailedTokenWindow);
            }
        }

        return null;
    }

    /// <summary>Counts one failed token; true when this failure used the last permit of the window of the client or its site (log it once).</summary>
    public bool RecordFailedToken(string client, string? site = null)
    {
        var settings = _options.CurrentValue;
        var exhausted = false;
        if (settings.MaxFailedTokens > 0)
        {
            using var lease = _failures.AttemptAcquire(client);
            using var next = _failures.AttemptAcquire(client, permitCount: 0);
            exhausted |= lease.IsAcquired && !next.IsAcquired;
        }

        if (site is not null && settings.MaxFailedTokensPerIPv6Site > 0)
        {
            using var lease = _siteFailures.AttemptAcquire(site);
            using var next = _siteFailures.AttemptAcquire(site, permitCount: 0);
            exhausted |= lease.IsAcquired && !next.IsAcquired;
        }

        return exhausted;
    }

    public void Dispose()
    {
        _handshakes.Dispose();
        _failures.Dispose();
        _siteFailures.Dispose();
    }

    private static TimeSpan RetryAfter(RateLimitLease lease, TimeSpan fallback) =>
        lease.TryGetMetadata(MetadataName.RetryAfter, out var retry) && retry > TimeSpan.Zero ? retry : fallback;
}
