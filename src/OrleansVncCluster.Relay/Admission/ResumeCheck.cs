using Microsoft.Extensions.Options;
using OrleansVncCluster.Relay.Diagnostics;
using OrleansVncCluster.Relay.Tokens;

namespace OrleansVncCluster.Relay.Admission;

/// <summary>
/// A resume credential brings back a session that ended by accident (a drain, a lost node), not one an administrator
/// closed: that close tells the token's grain (<see cref="ITokenGrain.ForbidResumeAsync"/>), and this check asks it. Only
/// resumes pay the grain call. The answer has a deadline and, unlike the limits, fails closed (1013): a kill must hold,
/// and the page retries 1013 on its own.
/// </summary>
public sealed partial class ResumeCheck(IGrainFactory grains, IOptionsMonitor<LimitsOptions> limits, ILogger<ResumeCheck> logger) : IAdmissionCheck
{
    /// <inheritdoc/>
    public async ValueTask<Refusal?> CheckAsync(AdmissionContext context, CancellationToken cancellationToken)
    {
        if (context.Ticket.Ticket?.ResumedSession is not { } resumed || context.Token is not { } token)
        {
            return null;
        }

        bool may;
        try
        {
            may = await grains.GetGrain<ITokenGrain>(token).MayResumeAsync(resumed).WaitAsync(limits.CurrentValue.LeaseTimeout, cancellationToken);
        }
        catch (Exception exception) when (exception is TimeoutException or OrleansException)
        {
            LogUnanswered(logger, resumed, TokenText.ForLog(token), exception.Message);
            return new Refusal(CloseReasons.TryAgainLater, CloseReasons.TokenStoreUnavailableText, "resume_unanswered");
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
        Message = "Refused resuming session {ResumedSession} of token {Token} for now: its grain did not say whether it may ({Error})")]
    private static partial void LogUnanswered(ILogger logger, string resumedSession, string token, string error);
}
