using Microsoft.Extensions.Options;
using OrleansVncCluster.Relay.Cluster;
using OrleansVncCluster.Relay.Diagnostics;
using OrleansVncCluster.Relay.Tickets;
using OrleansVncCluster.Relay.Tokens;

namespace OrleansVncCluster.Relay.Admission;

/// <summary>
/// One lease on the client's grain and one on the token's grain (both asked at once): Limits:MaxSessionsPerClient and
/// Limits:MaxSessionsPerToken across the cluster. The calls have a deadline and fail open: a cluster that cannot count
/// must not lock every user out. The leases are held until the session ends.
/// </summary>
public sealed partial class LeaseCheck(
    IGrainFactory grains,
    ILocalSiloDetails silo,
    IOptionsMonitor<LimitsOptions> options,
    IOptionsMonitor<TicketOptions> tickets,
    ILogger<LeaseCheck> logger) : IAdmissionCheck
{
    /// <summary>The client key of the start-up rehearsal's sessions: not an address, so no client's.</summary>
    public const string RehearsalClientKey = "rehearsal";

    private static readonly TimeSpan[] ReleaseRetries = [TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(30)];

    /// <inheritdoc/>
    public async ValueTask<Refusal?> CheckAsync(AdmissionContext context, CancellationToken cancellationToken)
    {
        var settings = options.CurrentValue;
        // Under the session's own id: the token's grain then answers whether this session still lives (presence, renewal
        // of its resume credential).
        var leaseId = context.SessionId;
        var viewOnly = context.Ticket.Ticket?.ViewOnly ?? false;
        var wanted = new List<(ISessionLeaseHolder Holder, int Max, string Reason, string Metric)>(2);
        // The node's own start-up rehearsal is no client: its 16 sessions at a time spend no one's limit, on a client
        // grain of their own (no address is that key) without a limit, so a user's first session does not pay that
        // grain's first call.
        if (settings.MaxSessionsPerClient > 0)
        {
            var (key, max) = context.Rehearsal ? (RehearsalClientKey, int.MaxValue) : (context.ClientKey, settings.MaxSessionsPerClient);
            wanted.Add((grains.ForKey<IClientSessionsGrain>(key), max, CloseReasons.ClientSessionsText, LimitReasons.ClientSessions));
        }

        var tokenLease = settings.MaxSessionsPerToken > 0 || tickets.CurrentValue.ResumeWindow > TimeSpan.Zero;
        if (tokenLease && context.TokenGrainUnanswered)
        {
            // The lookup found the token's grain silent: its lease would fail open after waiting out the same failure.
            LogLeaseUnavailable(logger, "token grain did not answer the lookup");
        }
        else if (tokenLease)
        {
            // Without a per-token limit the lease is still taken while resuming is on: it is how the cluster knows which
            // sessions of a console live and which of them watch (the page's presence call).
            var max = settings.MaxSessionsPerToken > 0 ? settings.MaxSessionsPerToken : int.MaxValue;
            wanted.Add((grains.ForKey<ITokenGrain>(context.Token!), max, CloseReasons.TokenSessionsText, LimitReasons.TokenSessions));
        }

        if (wanted.Count == 0)
        {
            return null;
        }

        var answers = await Task.WhenAll(wanted.Select(w => AcquireAsync(w.Holder, leaseId, w.Max, viewOnly, settings.LeaseTimeout)));
        var held = new List<ISessionLeaseHolder>(2);
        (string Reason, string Metric)? refused = null;
        for (var i = 0; i < wanted.Count; i++)
        {
            if (answers[i] == LeaseAnswer.Held)
            {
                held.Add(wanted[i].Holder);
            }
            else if (answers[i] == LeaseAnswer.Refused)
            {
                refused ??= (wanted[i].Reason, wanted[i].Metric);
            }
        }

        if (refused is { } no)
        {
            Release(held, leaseId);
            return new Refusal(CloseReasons.TooMany, no.Reason, no.Metric);
        }

        context.Hold(() => Release(held, leaseId));
        return null;
    }

    private async Task<LeaseAnswer> AcquireAsync(ISessionLeaseHolder holder, string leaseId, int max, bool viewOnly, TimeSpan timeout)
    {
        var call = holder.AcquireLeaseAsync(leaseId, silo.SiloAddress, max, viewOnly);
        try
        {
            return await call.WaitAsync(timeout) ? LeaseAnswer.Held : LeaseAnswer.Refused;
        }
        catch (Exception exception) when (ClusterCall.Failed(exception))
        {
            LogLeaseUnavailable(logger, exception.GetType().Name);
            // The call may still land after the deadline: give back whatever it takes, or the slot would stay counted.
            _ = call.ContinueWith(taken =>
            {
                if (taken.IsCompletedSuccessfully && taken.Result)
                {
                    Release([holder], leaseId);
                }
            }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            return LeaseAnswer.Unavailable;
        }
    }

    private void Release(List<ISessionLeaseHolder> holders, string leaseId)
    {
        foreach (var holder in holders)
        {
            _ = ReleaseAsync(holder, leaseId);
        }
    }

    private async Task ReleaseAsync(ISessionLeaseHolder holder, string leaseId)
    {
        // A lost release keeps a slot counted for as long as this node lives (leases only die with their node): retry.
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                await holder.ReleaseLeaseAsync(leaseId).WaitAsync(options.CurrentValue.LeaseTimeout * 5);
                return;
            }
            catch (Exception exception) when (ClusterCall.Failed(exception))
            {
                if (attempt >= ReleaseRetries.Length)
                {
                    LogReleaseFailed(logger, exception, holder.GetGrainId().ToString());
                    return;
                }

                await Task.Delay(ReleaseRetries[attempt]);
            }
        }
    }

    private enum LeaseAnswer
    {
        Held,
        Refused,
        Unavailable,
    }

    [LoggerMessage(EventId = EventIds.LeaseUnavailable, Level = LogLevel.Warning,
        Message = "Session limits could not be counted ({Error}): admitting the session without its lease")]
    private static partial void LogLeaseUnavailable(ILogger logger, string error);

    [LoggerMessage(EventId = EventIds.LeaseReleaseFailed, Level = LogLevel.Warning,
        Message = "Could not give back a session lease to {Grain}; it counts until this node restarts")]
    private static partial void LogReleaseFailed(ILogger logger, Exception exception, string grain);
}
