using Microsoft.Extensions.Options;
using OrleansVncCluster.Relay.Diagnostics;

namespace OrleansVncCluster.Relay.Admission;

/// <summary>
/// Says at start-up that Limits:AllowedTargetNetworks is empty: the always-refused places (<see cref="TargetPolicy"/>)
/// still hold, but any other address a token source names, loopback and internal networks included, can be dialled.
/// </summary>
public sealed partial class TargetPolicyWarning(IOptions<LimitsOptions> options, ILogger<TargetPolicyWarning> logger) : IHostedService
{
    /// <inheritdoc/>
    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (options.Value.AllowedTargetNetworks.Count == 0)
        {
            LogAllowListEmpty(logger);
        }

        return Task.CompletedTask;
    }

    /// <inheritdoc/>
    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(EventId = EventIds.TargetAllowListEmpty, Level = LogLevel.Warning,
        Message = "Limits:AllowedTargetNetworks is empty: consoles may reach any address a token source names except link-local, multicast, unspecified and the cluster's own endpoints; set it to the networks of your VNC servers, e.g. Limits__AllowedTargetNetworks__0=10.20.0.0/16")]
    private static partial void LogAllowListEmpty(ILogger logger);
}
