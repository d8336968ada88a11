using OrleansVncCluster.Relay.Abiquo;
using OrleansVncCluster.Relay.Diagnostics;
using OrleansVncCluster.Relay.Tokens;

namespace OrleansVncCluster.Relay.Sources;

/// <summary>The VMs of every Abiquo enterprise, as console tokens (see <see cref="AbiquoTokens"/>).</summary>
/// <remarks>
/// A contested address (VMs of different enterprises report it) is logged as an error once, in the sync that first
/// sees it; every sync that still finds some logs one warning with their count. A cloud of 1,000,000 VMs had 7,700 of
/// them, which as one error each per sync buried everything else in the journal.
/// </remarks>
internal sealed partial class AbiquoTokenSource(AbiquoClient client, ILogger<AbiquoTokenSource> logger) : ITokenSource
{
    /// <summary>The contested addresses of the last load (the sync grain keeps this source for its activation's life).</summary>
    private HashSet<string> _contested = new(StringComparer.Ordinal);

    /// <summary>The tokens of the last load: the next reuses what did not change (see <see cref="AbiquoTokenBuilder"/>).
    /// Held between syncs: about 650 MiB per 1,000,000 tokens (measured), which each re-sync would otherwise allocate
    /// again, so the re-sync's peak is lower with it than without.</summary>
    private IReadOnlyDictionary<string, ConsoleTokenEntry>? _last;

    public string Name => AbiquoTokens.SourceName;

    public async Task<IReadOnlyDictionary<string, ConsoleTokenEntry>> LoadAsync(CancellationToken cancellationToken)
    {
        // Tokens are built as each enterprise's VMs arrive, so no more than a few enterprises' VMs are held at once.
        var builder = new AbiquoTokenBuilder(_last);
        var read = await client.ReadVirtualMachinesAsync(builder.Add, cancellationToken);
        var set = builder.Finish();
        LogLoaded(logger, set.Tokens.Count, read.VirtualMachines, read.Enterprises, set.WithoutConsole, set.SharedAddresses, read.Requests, read.Elapsed.TotalMilliseconds);
        var contested = new HashSet<string>(set.Contested.Count, StringComparer.Ordinal);
        var appeared = 0;
        foreach (var address in set.Contested)
        {
            contested.Add(address.Address);
            if (!_contested.Contains(address.Address))
            {
                appeared++;
                LogContested(logger, address.Address, string.Join(", ", address.Vms));
            }
        }

        var resolved = _contested.Count(address => !contested.Contains(address));
        if (contested.Count > 0 || resolved > 0)
        {
            LogContestedCount(logger, contested.Count, appeared, resolved);
        }

        _contested = contested;
        _last = set.Tokens;
        return set.Tokens;
    }

    [LoggerMessage(EventId = EventIds.AbiquoAddressContested, Level = LogLevel.Error,
        Message = "Abiquo reports console address {Address} for VMs of different enterprises ({Vms}): no token is published for it until only one enterprise reports it")]
    private static partial void LogContested(ILogger logger, string address, string vms);

    [LoggerMessage(EventId = EventIds.AbiquoAddressesContested, Level = LogLevel.Warning,
        Message = "Abiquo reports {Contested} console addresses for VMs of different enterprises, which have no token: {Appeared} new in this sync " +
                  "(each logged once as error 3015), {Resolved} resolved since the last")]
    private static partial void LogContestedCount(ILogger logger, int contested, int appeared, int resolved);

    [LoggerMessage(EventId = EventIds.AbiquoTokensWritten, Level = LogLevel.Debug,
        Message = "Abiquo gave {Tokens} console tokens from {Vms} VMs of {Enterprises} enterprises ({WithoutConsole} without a console, {Shared} sharing an IP:port) in {Requests} requests, {ElapsedMs:0} ms")]
    private static partial void LogLoaded(ILogger logger, int tokens, int vms, int enterprises, int withoutConsole, int shared, int requests, double elapsedMs);
}
