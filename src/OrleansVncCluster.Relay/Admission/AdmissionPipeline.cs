using Microsoft.Extensions.Options;
using OrleansVncCluster.Relay.Diagnostics;
using OrleansVncCluster.Relay.Tokens;

namespace OrleansVncCluster.Relay.Admission;

/// <summary>
/// Every reason a console session can be refused, in one place and one order. Before the upgrade: the origin (a 403,
/// the only refusal a browser's developer tools can show as such). After it, as close frames with a reason, because a
/// browser cannot see the status of a refused upgrade (it reports a bare 1006): client rate, drain, node capacity,
/// ticket, token lookup, the ticket's VM, target policy, leases, ticket redemption. The rate check comes first so that a
/// flood or a guesser costs no lookup; redemption of a single-use ticket comes last so that no refusal burns it (and a
/// session that never relays gives it back, <see cref="AdmissionResult.NotRelayedAsync"/>); a refusal by redemption
/// gives the leases back at once. Each check runs once; the first refusal ends admission, is counted
/// (vnc_relay_sessions_failed_total{reason}) and logged here, and gives back what the checks before it took. A session
/// of the node's own start-up rehearsal skips the checks that say they do not apply to it
/// (<see cref="IAdmissionCheck.AppliesToRehearsal"/>: the client rate, the target policy).
/// </summary>
public sealed partial class AdmissionPipeline
{
    private readonly IAdmissionCheck[] _beforeUpgrade;
    private readonly IAdmissionCheck[] _afterUpgrade;
    private readonly IAdmissionCheck[] _rehearsal;
    private readonly IOptionsMonitor<LimitsOptions> _limits;
    private readonly RelayMetrics _metrics;
    private readonly ILogger<AdmissionPipeline> _logger;

    /// <summary>The checks, in the order they run.</summary>
    public AdmissionPipeline(
        OriginCheck origin,
        ClientRateCheck rate,
        DrainCheck drain,
        NodeCapacityCheck capacity,
        TicketCheck ticket,
        TokenLookupCheck token,
        TicketVmCheck vm,
        ResumeCheck resume,
        TargetCheck target,
        LeaseCheck leases,
        TicketRedemptionCheck redemption,
        IOptionsMonitor<LimitsOptions> limits,
        RelayMetrics metrics,
        ILogger<AdmissionPipeline> logger)
        : this([origin], [rate, drain, capacity, ticket, token, vm, resume, target, leases, redemption], limits, metrics, logger)
    {
    }

    /// <summary>Any checks, for tests of the pipeline itself.</summary>
    internal AdmissionPipeline(
        IAdmissionCheck[] beforeUpgrade, IAdmissionCheck[] afterUpgrade, IOptionsMonitor<LimitsOptions> limits, RelayMetrics metrics, ILogger<AdmissionPipeline> logger)
    {
        _beforeUpgrade = beforeUpgrade;
        _afterUpgrade = afterUpgrade;
        _rehearsal = [.. afterUpgrade.Where(check => check.AppliesToRehearsal)];
        _limits = limits;
        _metrics = metrics;
        _logger = logger;
    }

    /// <summary>The checks that answer with an HTTP status before the upgrade; null when the upgrade may go ahead.</summary>
    public async ValueTask<Refusal?> CheckUpgradeAsync(AdmissionContext context, CancellationToken cancellationToken)
    {
        foreach (var check in _beforeUpgrade)
        {
            if (await check.CheckAsync(context, cancellationToken) is { } refusal)
            {
                _metrics.SessionFailed(refusal.Metric);
                return refusal;
            }
        }

        return null;
    }

    /// <summary>
    /// Runs the checks that answer with a close frame (the endpoint runs them just before the 101 and sends the refusal
    /// right after it); the result holds what they took until it is disposed.
    /// </summary>
    public async ValueTask<AdmissionResult> AdmitAsync(AdmissionContext context, CancellationToken cancellationToken)
    {
        context.ClientKey = Networks.ClientKey(context.Client, _limits.CurrentValue.ClientIPv6PrefixLength);
        foreach (var check in context.Rehearsal ? _rehearsal : _afterUpgrade)
        {
            if (await check.CheckAsync(context, cancellationToken) is { } refusal)
            {
                context.Refused(refusal);
                _metrics.SessionFailed(refusal.Metric);
                LogRefused(_logger, context.Client, TokenText.ForLog(context.Presented), (int)refusal.Status, refusal.Reason);
                return new AdmissionResult(refusal, context);
            }
        }

        return new AdmissionResult(null, context);
    }

    [LoggerMessage(EventId = EventIds.SessionRefused, Level = LogLevel.Information,
        Message = "Refused session from {Client} with token {Token}: {CloseCode} {CloseReason}")]
    private static partial void LogRefused(ILogger logger, string client, string token, int closeCode, string closeReason);
}
