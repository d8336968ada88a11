using System.Net;
using OrleansVncCluster.Relay.Diagnostics;
using OrleansVncCluster.Relay.Tokens;

namespace OrleansVncCluster.Relay.Admission;

/// <summary>The target policy (<see cref="TargetPolicy"/>, Limits:AllowedTargetNetworks); an allowed session then dials the checked address.</summary>
public sealed partial class TargetCheck(TargetPolicy targets, ILogger<TargetCheck> logger) : IAdmissionCheck
{
    /// <summary>False: the node's own start-up rehearsal dials the node's own VNC server on loopback, which an allow-list of
    /// hypervisor networks rightly refuses; its target comes from the node, never from a token source.</summary>
    public bool AppliesToRehearsal => false;

    /// <inheritdoc/>
    public async ValueTask<Refusal?> CheckAsync(AdmissionContext context, CancellationToken cancellationToken)
    {
        var entry = context.Entry!;
        var (verdict, target, offending) = await targets.CheckAsync(entry.Target, cancellationToken);
        if (verdict == TargetVerdict.Allowed)
        {
            if (target != entry.Target)
            {
                context.Entry = entry with { Target = target };
            }

            return null;
        }

        LogTargetRefused(logger, context.Client, TokenText.ForLog(context.Token), entry.Target, offending, verdict);
        return verdict switch
        {
            TargetVerdict.Unresolved => new Refusal(CloseReasons.TargetFailed, CloseReasons.TargetUnresolvedText, LimitReasons.TargetUnresolved),
            TargetVerdict.OwnEndpoint => new Refusal(CloseReasons.Forbidden, CloseReasons.TargetOwnEndpointText, LimitReasons.TargetOwnEndpoint),
            TargetVerdict.Reserved => new Refusal(CloseReasons.Forbidden, CloseReasons.TargetReservedText, LimitReasons.TargetReserved),
            _ => new Refusal(CloseReasons.Forbidden, CloseReasons.TargetNotAllowedText, LimitReasons.TargetNotAllowed),
        };
    }

    [LoggerMessage(EventId = EventIds.TargetNotAllowed, Level = LogLevel.Warning,
        Message = "Refused session from {Client} with token {Token}: target {Target} (address {Address}) is {Verdict} under the target policy (Limits:AllowedTargetNetworks and the always-refused places); check the token's source")]
    private static partial void LogTargetRefused(ILogger logger, string client, string token, ConsoleTarget target, IPAddress? address, TargetVerdict verdict);
}
