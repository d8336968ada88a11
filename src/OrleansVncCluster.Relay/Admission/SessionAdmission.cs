using System.Globalization;
using System.Net.WebSockets;
using System.Net;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OrleansVncCluster.Relay.Cluster;
using OrleansVncCluster.Relay.Diagnostics;
using OrleansVncCluster.Relay.Tokens;

namespace OrleansVncCluster.Relay.Admission;

/// <summary>
/// Admits a WebSocket session: per-client handshake rate and failed-token lockout before any token lookup, then the
/// endpoint's own checks (drain, node full, token), then the target allow-list, then one lease on the client's grain
/// and one on the token's grain (both called at once). Every refusal is a close frame after the upgrade, like all of
/// RelayEndpoint's refusals: a browser cannot read the status of a refused upgrade (it reports a bare 1006), and the
/// console page must be able to say which limit was hit. The lease calls have a deadline and fail open: a cluster
/// that cannot count must not lock every user out.
/// </summary>
public sealed partial class SessionAdmission(
    IGrainFactory grains,
    ILocalSiloDetails silo,
    ClientRateLimits rates,
    TargetPolicy targets,
    IOptionsMonitor<LimitsOptions> options,
    ILogger<SessionAdmission> logger)
{
    private static readonly TimeSpan[] ReleaseRetries = [TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(30)];

    /// <summary>Runs the limits around <paramref name="check"/> (RelayEndpoint's drain, capacity and token checks).</summary>
    public async ValueTask<AdmissionResult> AdmitAsync(
        string client,
        string? token,
        Func<CancellationToken, ValueTask<(Refusal Refused, ConsoleTokenEntry? Entry)>> check,
        CancellationToken cancellationToken)
    {
        var settings = options.CurrentValue;
        var key = Networks.ClientKey(client, settings.ClientIPv6PrefixLength);
        if (rates.TryHandshake(key) is { } slowDown)
        {
            return new AdmissionResult(new Refusal(CloseReasons.TooMany, $"{CloseReasons.HandshakeRateText}: retry in {Seconds(slowDown)} s", LimitReasons.HandshakeRate));
        }

        if (rates.FailedTokensBlocked(key) is { } blocked)
        {
            // No lookup at all: guessing costs the cluster nothing once over the limit.
            return new AdmissionResult(new Refusal(CloseReasons.TooMany, $"{CloseReasons.FailedTokenRateText}: retry in {Seconds(blocked)} s", LimitReasons.FailedTokenRate));
        }

        var (refused, entry) = await check(cancellationToken);
        if (entry is null)
        {
            if (IsTokenFailure(refused.Status) && rates.RecordFailedToken(key))
            {
                LogFailedTokenLimit(logger, key, settings.MaxFailedTokens, settings.FailedTokenWindow, TokenText.ForLog(token));
            }

            return new AdmissionResult(refused);
        }

        var (verdict, target, offending) = await targets.CheckAsync(entry.Target, cancellationToken);
        if (verdict != TargetVerdict.Allowed)
        {
            LogTargetRefused(logger, client, TokenText.ForLog(token), entry.Target, offending, verdict);
            return verdict switch
            {
                TargetVerdict.Unresolved => new AdmissionResult(new Refusal(CloseReasons.TargetFailed, CloseReasons.TargetUnresolvedText, LimitReasons.TargetUnresolved)),
                TargetVerdict.OwnEndpoint => new AdmissionResult(new Refusal(CloseReasons.Forbidden, CloseReasons.TargetNotAllowedText, LimitReasons.TargetOwnEndpoint)),
                _ => new AdmissionResult(new Refusal(CloseReasons.Forbidden, CloseReasons.TargetNotAllowedText, LimitReasons.TargetNotAllowed)),
            };
        }

        if (target != entry.Target)
        {
            entry = entry with { Target = target };
        }

        return await LeaseAsync(key, token!, entry, settings);
    }

    /// <summary>
    /// Refusals that mean "this token or ticket is no good": the ones a guesser or a replayer collects. An expired
    /// ticket is left out: that is a user with an old link, not a guess.
    /// </summary>
    private static bool IsTokenFailure(WebSocketCloseStatus status) =>
        status is CloseReasons.BadToken or CloseReasons.UnknownToken or CloseReasons.Forbidden
            or CloseReasons.TicketBadSignature or CloseReasons.TicketUnknownKey or CloseReasons.TicketUsed or CloseReasons.PlainTokenRefused;

    private async Task<AdmissionResult> LeaseAsync(string clientKey, string token, ConsoleTokenEntry entry, LimitsOptions settings)
    {
        var leaseId = Guid.NewGuid().ToString("N");
        var wanted = new List<(ISessionLeaseHolder Holder, int Max, string Reason, string Metric)>(2);
        if (settings.MaxSessionsPerClient > 0)
        {
            wanted.Add((grains.GetGrain<IClientSessionsGrain>(clientKey), settings.MaxSessionsPerClient, CloseReasons.ClientSessionsText, LimitReasons.ClientSessions));
        }

        if (settings.MaxSessionsPerToken > 0)
        {
            wanted.Add((grains.GetGrain<ITokenGrain>(token), settings.MaxSessionsPerToken, CloseReasons.TokenSessionsText, LimitReasons.TokenSessions));
        }

        if (wanted.Count == 0)
        {
            return new AdmissionResult(entry);
        }

        var answers = await Task.WhenAll(wanted.Select(w => AcquireAsync(w.Holder, leaseId, w.Max, settings.LeaseTimeout)));
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
            return new AdmissionResult(new Refusal(CloseReasons.TooMany, no.Reason, no.Metric));
        }

        return new AdmissionResult(entry, this, held, leaseId);
    }

    private async Task<LeaseAnswer> AcquireAsync(ISessionLeaseHolder holder, string leaseId, int max, TimeSpan timeout)
    {
        var call = holder.AcquireLeaseAsync(leaseId, silo.SiloAddress, max);
        try
        {
            return await call.WaitAsync(timeout) ? LeaseAnswer.Held : LeaseAnswer.Refused;
        }
        catch (Exception exception) when (exception is TimeoutException or OrleansException or SiloUnavailableException)
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

    internal void Release(List<ISessionLeaseHolder> holders, string leaseId)
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
            catch (Exception exception) when (exception is TimeoutException or OrleansException or SiloUnavailableException)
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

    private static string Seconds(TimeSpan wait) => Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds)).ToString(CultureInfo.InvariantCulture);

    private enum LeaseAnswer
    {
        Held,
        Refused,
        Unavailable,
    }

    [LoggerMessage(EventId = EventIds.FailedTokenLimitReached, Level = LogLevel.Warning,
        Message = "Client {Client} presented {MaxFailedTokens} bad console tokens within {Window} (last {Token}): refusing its sessions without lookups until the window ends")]
    private static partial void LogFailedTokenLimit(ILogger logger, string client, int maxFailedTokens, TimeSpan window, string token);

    [LoggerMessage(EventId = EventIds.TargetNotAllowed, Level = LogLevel.Warning,
        Message = "Refused session from {Client} with token {Token}: target {Target} (address {Address}) is {Verdict} under Limits:AllowedTargetNetworks; check the token's source")]
    private static partial void LogTargetRefused(ILogger logger, string client, string token, ConsoleTarget target, IPAddress? address, TargetVerdict verdict);

    [LoggerMessage(EventId = EventIds.LeaseUnavailable, Level = LogLevel.Warning,
        Message = "Session limits could not be counted ({Error}): admitting the session without its lease")]
    private static partial void LogLeaseUnavailable(ILogger logger, string error);

    [LoggerMessage(EventId = EventIds.LeaseReleaseFailed, Level = LogLevel.Warning,
        Message = "Could not give back a session lease to {Grain}; it counts until this node restarts")]
    private static partial void LogReleaseFailed(ILogger logger, Exception exception, string grain);
}
