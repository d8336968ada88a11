using System.Globalization;
using System.Net.WebSockets;
using Microsoft.Extensions.Options;
using OrleansVncCluster.Relay.Diagnostics;
using OrleansVncCluster.Relay.Tokens;

namespace OrleansVncCluster.Relay.Admission;

/// <summary>
/// Per-client handshake rate and failed-token lockout, before any token lookup: over the limit, guessing costs the
/// cluster nothing. It also counts the refusals of the checks after it that mean "this token or ticket is no good".
/// </summary>
public sealed partial class ClientRateCheck(ClientRateLimits rates, IOptionsMonitor<LimitsOptions> options, ILogger<ClientRateCheck> logger) : IAdmissionCheck
{
    /// <summary>False: the node's own start-up rehearsal is no client, and its 16 sessions at a time spend no one's
    /// handshake rate.</summary>
    public bool AppliesToRehearsal => false;

    /// <inheritdoc/>
    public ValueTask<Refusal?> CheckAsync(AdmissionContext context, CancellationToken cancellationToken)
    {
        var key = context.ClientKey;
        var site = Networks.SiteKey(context.Client);
        if (rates.TryHandshake(key) is { } slowDown)
        {
            return Refuse(new Refusal(CloseReasons.TooMany, $"{CloseReasons.HandshakeRateText}: retry in {Seconds(slowDown)} s", LimitReasons.HandshakeRate));
        }

        if (rates.FailedTokensBlocked(key, site) is { } blocked)
        {
            return Refuse(new Refusal(CloseReasons.TooMany, $"{CloseReasons.FailedTokenRateText}: retry in {Seconds(blocked)} s", LimitReasons.FailedTokenRate));
        }

        context.WhenRefused(refusal =>
        {
            if (IsTokenFailure(refusal.Status) && rates.RecordFailedToken(key, site))
            {
                LogFailedTokenLimit(logger, key, options.CurrentValue.MaxFailedTokens, options.CurrentValue.FailedTokenWindow, TokenText.ForLog(context.Presented));
            }
        });
        return ValueTask.FromResult<Refusal?>(null);
    }

    /// <summary>
    /// Refusals that mean "this token or ticket is no good": the ones a guesser or a replayer collects. An expired ticket
    /// is left out: that is a user with an old link, not a guess. (A target outside the allow-list, 4403, is the token
    /// source's fault, not the client's.)
    /// </summary>
    private static bool IsTokenFailure(WebSocketCloseStatus status) =>
        status is CloseReasons.BadToken or CloseReasons.UnknownToken
            or CloseReasons.TicketBadSignature or CloseReasons.TicketUnknownKey or CloseReasons.TicketUsed or CloseReasons.PlainTokenRefused;

    private static ValueTask<Refusal?> Refuse(Refusal refusal) => ValueTask.FromResult<Refusal?>(refusal);

    private static string Seconds(TimeSpan wait) => Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds)).ToString(CultureInfo.InvariantCulture);

    [LoggerMessage(EventId = EventIds.FailedTokenLimitReached, Level = LogLevel.Warning,
        Message = "Client {Client} presented {MaxFailedTokens} bad console tokens within {Window} (last {Token}): refusing its sessions without lookups until the window ends")]
    private static partial void LogFailedTokenLimit(ILogger logger, string client, int maxFailedTokens, TimeSpan window, string token);
}
