using Microsoft.Extensions.Options;
using OrleansVncCluster.Relay.Diagnostics;
using OrleansVncCluster.Relay.Tokens;

namespace OrleansVncCluster.Relay.Admission;

/// <summary>
/// A resume credential brings back a session that ended by accident (a drain, a lost node), not one an administrator
/// closed: that close is written to the token's stored state by its grain (<see cref="ITokenGrain.ForbidResumeAsync"/>),
/// and this check asks the grain. Only resumes pay the grain call. When the grain cannot answer (its silo was just
/// killed, the very failover a resume is for), the token's stored state answers instead (<see cref="StorageFallback"/>);
/// when neither answers, the check fails closed (1013): a kill must hold, and the page retries 1013 on its own.
/// </summary>
public sealed partial class ResumeCheck(
    IGrainFactory grains,
    StoredTokens stored,
    TimeProvider time,
    IOptionsMonitor<LimitsOptions> limits,
    ILogger<ResumeCheck> logger) : IAdmissionCheck
{
    /// <inheritdoc/>
    public async ValueTask<Refusal?> CheckAsync(AdmissionContext context, CancellationToken cancellationToken)
    {
        if (context.Ticket.Ticket?.ResumedSession is not { } resumed || context.Token is not { } token)
        {
            return null;
        }

        var timeout = limits.CurrentValue.LeaseTimeout;
        bool may;
        try
        {
            may = await grains.GetGrain<ITokenGrain>(token).MayResumeAsync(resumed).WaitAsync(timeout, time, cancellationToken);
        }
        catch (Exception exception) when (ClusterCall.Failed(exception))
        {
            var read = await stored.ReadAsync(token, timeout, cancellationToken);
            if (StorageFallback.MayResume(read, resumed, time.GetUtcNow()) is not { } fromStorage)
            {
                LogUnanswered(logger, resumed, TokenText.ForLog(token), exception.Message);
                return new Refusal(CloseReasons.TryAgainLater, CloseReasons.TokenStoreUnavailableText, "resume_unanswered");
            }

            LogAnsweredFromStorage(logger, resumed, TokenText.ForLog(token), exception.GetType().Name);
            may = fromStorage;
        }

        if (may)
        {
            return null;
        }

        LogClosedByAdministrator(logger, context.Client, resumed, TokenText.ForLog(token));
        return new Refusal(CloseReasons.TicketExpired, CloseReasons.ResumeClosedByAdministratorText, "resume_closed_by_admin");
    }

    [LoggerMessage(EventId = EventIds.ResumeOfClosedSession, Level = LogLevel.Warning,
        Message = "Refused {Client} resuming session {ResumedSession} of token {Token}: an administrator closed that session")]
    private static partial void LogClosedByAdministrator(ILogger logger, string client, string resumedSession, string token);

    [LoggerMessage(EventId = EventIds.ResumeCheckUnavailable, Level = LogLevel.Warning,
        Message = "Refused resuming session {ResumedSession} of token {Token} for now: neither its grain nor its stored state said whether it may ({Error})")]
    private static partial void LogUnanswered(ILogger logger, string resumedSession, string token, string error);

    [LoggerMessage(EventId = EventIds.ResumeCheckedInStorage, Level = LogLevel.Information,
        Message = "Checked resuming session {ResumedSession} of token {Token} against its stored state: its grain did not answer ({Error})")]
    private static partial void LogAnsweredFromStorage(ILogger logger, string resumedSession, string token, string error);
}
