using Microsoft.Extensions.Options;
using OrleansVncCluster.Relay.Cluster;
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
        if (context.TokenGrainUnanswered)
        {
            // The lookup just found the grain silent (each call to it waits out Orleans' retries on a dead silo, about a
            // second): go to storage at once, with the record the lookup read when it has one.
            if (await FromStorageAsync(context.StoredToken, token, resumed, timeout, "the token lookup found it silent", cancellationToken) is not { } answer)
            {
                return Unanswered();
            }

            may = answer;
        }
        else
        {
            try
            {
                may = await grains.ForKey<ITokenGrain>(token).MayResumeAsync(resumed).WaitAsync(timeout, time, cancellationToken);
            }
            catch (Exception exception) when (ClusterCall.Failed(exception))
            {
                if (await FromStorageAsync(null, token, resumed, timeout, exception.GetType().Name, cancellationToken) is not { } answer)
                {
                    return Unanswered();
                }

                may = answer;
            }
        }

        if (may)
        {
            return null;
        }

        LogClosedByAdministrator(logger, context.Client, resumed, TokenText.ForLog(token));
        return new Refusal(CloseReasons.TicketExpired, CloseReasons.ResumeClosedByAdministratorText, "resume_closed_by_admin");
    }

    private static Refusal Unanswered() => new(CloseReasons.TryAgainLater, CloseReasons.TokenStoreUnavailableText, "resume_unanswered");

    /// <summary>What the token's stored record says of the resume (null: it says nothing), reading it unless
    /// <paramref name="read"/> already holds it.</summary>
    private async Task<bool?> FromStorageAsync(StoredTokenRead? read, string token, string resumed, TimeSpan timeout, string why, CancellationToken cancellationToken)
    {
        var record = read ?? await stored.ReadAsync(token, timeout, cancellationToken);
        var answer = StorageFallback.MayResume(record, resumed, time.GetUtcNow());
        if (answer is null)
        {
            LogUnanswered(logger, resumed, TokenText.ForLog(token), why);
        }
        else
        {
            LogAnsweredFromStorage(logger, resumed, TokenText.ForLog(token), why);
        }

        return answer;
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
