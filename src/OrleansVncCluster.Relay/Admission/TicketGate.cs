using System.Net.WebSockets;
using Microsoft.Extensions.Options;
using OrleansVncCluster.Relay.Cluster;
using OrleansVncCluster.Relay.Diagnostics;
using OrleansVncCluster.Relay.Tickets;
using OrleansVncCluster.Relay.Tokens;

namespace OrleansVncCluster.Relay.Admission;

/// <summary>
/// The relay's door for tickets and plain tokens: a ticket is verified and replaced by the VM token inside it; a plain
/// token passes only while <see cref="TokenOptions.AcceptPlainTokens"/> holds, a legacy vt1 ticket only while
/// <see cref="TicketOptions.AcceptV1Tickets"/> holds. Single-use tickets are redeemed through their grain as the last
/// step of admission (<see cref="TicketRedemptionCheck"/>) and given back when the session never relayed (the VM did not
/// answer), so no refusal for another cause burns the ticket.
/// </summary>
public sealed partial class TicketGate(
    TicketKeyRing keys,
    IGrainFactory grains,
    IOptionsMonitor<TokenOptions> tokenOptions,
    IOptionsMonitor<TicketOptions> ticketOptions,
    TimeProvider time,
    ILogger<TicketGate> logger)
{
    /// <summary>The query parameter that carries a ticket; a ticket may also come in <c>token</c>, where noVNC puts it.</summary>
    public const string QueryName = "ticket";

    /// <summary>
    /// The page's resume credential when it names one it holds (<see cref="ResumeCookie"/>: a page coming back after its
    /// node drained or died), else the first <c>ticket</c> query value, else the token as websockify reads it (query, then cookie).
    /// </summary>
    public static string? ReadPresented(HttpRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (ResumeCookie.Read(request) is { } resume)
        {
            return resume;
        }

        return request.Query.TryGetValue(QueryName, out var values) && values.Count > 0 && values[0] is { Length: > 0 } ticket
            ? ticket.TrimEnd('\n', '\r')
            : Handshake.ReadToken(request);
    }

    /// <summary>Checks what the client presented; never throws.</summary>
    public Presented Admit(string? presented)
    {
        if (string.IsNullOrEmpty(presented))
        {
            return new Presented(null, null, null);
        }

        if (ResumeText.LooksLikeResume(presented))
        {
            return AdmitResume(presented);
        }

        if (PlaybackText.LooksLikePlayback(presented))
        {
            // Never a token either: say what it is instead of "unknown token".
            return Refuse(CloseReasons.BadToken, CloseReasons.PlaybackTicketText, "playback_ticket");
        }

        if (!TicketText.LooksLikeTicket(presented))
        {
            return tokenOptions.CurrentValue.AcceptPlainTokens
                ? new Presented(presented, null, null)
                : Refuse(CloseReasons.PlainTokenRefused, CloseReasons.PlainTokenRefusedText, "plain_token_refused");
        }

        if (!keys.Enabled)
        {
            return Refuse(CloseReasons.TicketUnknownKey, CloseReasons.TicketsOffText, "ticket_unknown_key");
        }

        return TicketText.Verify(presented, keys.Find, time.GetUtcNow(), out var ticket) switch
        {
            TicketStatus.Valid when ticket!.Version == 1 && !ticketOptions.CurrentValue.AcceptV1Tickets =>
                Refuse(CloseReasons.TicketUnknownKey, CloseReasons.TicketV1RefusedText, "ticket_v1_refused"),
            TicketStatus.Valid => new Presented(ticket!.Token, ticket, null),
            TicketStatus.Expired => Refuse(CloseReasons.TicketExpired, CloseReasons.TicketExpiredText, "ticket_expired"),
            TicketStatus.BadSignature => Refuse(CloseReasons.TicketBadSignature, CloseReasons.TicketBadSignatureText, "ticket_bad_signature"),
            TicketStatus.UnknownKey => Refuse(CloseReasons.TicketUnknownKey, CloseReasons.TicketUnknownKeyText, "ticket_unknown_key"),
            _ => Refuse(CloseReasons.BadToken, CloseReasons.TicketMalformedText, "ticket_malformed"),
        };
    }

    /// <summary>
    /// A resume credential stands for the ticket of the session it resumes (VM binding, role, user) and is never
    /// single-use; it is refused once expired, when its key is retired, and when resuming is turned off.
    /// </summary>
    private Presented AdmitResume(string presented)
    {
        if (!keys.Enabled || ticketOptions.CurrentValue.ResumeWindow <= TimeSpan.Zero)
        {
            return Refuse(CloseReasons.TicketUnknownKey, CloseReasons.ResumeOffText, "resume_off");
        }

        return ResumeText.Verify(presented, keys.Find, time.GetUtcNow(), out var grant) switch
        {
            TicketStatus.Valid => new Presented(grant!.Token, grant, null),
            TicketStatus.Expired => Refuse(CloseReasons.TicketExpired, CloseReasons.ResumeExpiredText, "resume_expired"),
            TicketStatus.BadSignature => Refuse(CloseReasons.TicketBadSignature, CloseReasons.TicketBadSignatureText, "resume_bad_signature"),
            TicketStatus.UnknownKey => Refuse(CloseReasons.TicketUnknownKey, CloseReasons.TicketUnknownKeyText, "resume_unknown_key"),
            _ => Refuse(CloseReasons.BadToken, CloseReasons.TicketMalformedText, "resume_malformed"),
        };
    }

    /// <summary>
    /// A resume credential for the admitted session <paramref name="sessionId"/>, standing for what it was opened with
    /// (<paramref name="ticket"/>, or a plain token) and bound to the VM its token led to; null when resuming is off.
    /// </summary>
    public string? IssueResume(string sessionId, string token, string binding, ConsoleTicket? ticket)
    {
        var window = ticketOptions.CurrentValue.ResumeWindow;
        if (window <= TimeSpan.Zero || keys.SigningKey is not { } key || !TokenText.IsWellFormed(token))
        {
            return null;
        }

        var grant = new ConsoleTicket(key.Id, token, default, sessionId, SingleUse: false, ViewOnly: ticket?.ViewOnly ?? false)
        {
            Binding = binding,
            VmId = ticket?.VmId,
            User = ticket?.User,
            ResumedSession = sessionId,
            // The page comes back with the clipboard its ticket allowed, never the cluster's wider default.
            Clipboard = ticket?.Clipboard ?? ClipboardDirections.Both,
            // A resumed page keeps its share button: the credential says what the ticket said.
            MayShare = ticket?.MayShare ?? false,
            // A session its ticket had recorded stays recorded when the page comes back, on whichever node.
            Record = ticket?.Record ?? false,
        };
        return ResumeText.Issue(key, grant, time.GetUtcNow() + window);
    }

    /// <summary>
    /// True when the page holding <paramref name="grant"/> (its resume credential) may hand out view-only links now: a
    /// control session whose ticket carried the share flag, on a cluster that allows sharing (Tickets:AllowShare).
    /// </summary>
    public bool MayShare(ConsoleTicket grant)
    {
        ArgumentNullException.ThrowIfNull(grant);
        return keys.Enabled && ticketOptions.CurrentValue.AllowShare && grant.MayShare && !grant.ViewOnly;
    }

    /// <summary>
    /// A single-use view ticket for the console <paramref name="grant"/> opens (same token, VM binding, VM id, clipboard
    /// at most), for <paramref name="user"/>, living Tickets:ShareTtl (at most Tickets:MaxTtl); null when tickets are off.
    /// </summary>
    public string? IssueShare(ConsoleTicket grant, string user, out DateTimeOffset expiresAt)
    {
        ArgumentNullException.ThrowIfNull(grant);
        var settings = ticketOptions.CurrentValue;
        var ttl = settings.ShareTtl < settings.MaxTtl ? settings.ShareTtl : settings.MaxTtl;
        // Whole seconds: the ticket carries unix seconds, so the answer says exactly what it carries.
        expiresAt = DateTimeOffset.FromUnixTimeSeconds((time.GetUtcNow() + ttl).ToUnixTimeSeconds());
        if (keys.SigningKey is not { } key || grant.Binding is not { } binding)
        {
            return null;
        }

        return TicketText.Issue(key, grant.Token, binding, expiresAt, singleUse: true, viewOnly: true, grant.VmId, user, grant.Clipboard);
    }

    /// <summary>How long a resume credential issued now lives (Tickets:ResumeWindow); zero when resuming is off.</summary>
    public TimeSpan ResumeWindow => keys.Enabled ? ticketOptions.CurrentValue.ResumeWindow : TimeSpan.Zero;

    /// <summary>Verifies a resume credential for the presence call; null unless it is valid now.</summary>
    public ConsoleTicket? VerifyResume(string? presented) =>
        ResumeWindow > TimeSpan.Zero && ResumeText.Verify(presented, keys.Find, time.GetUtcNow(), out var grant) == TicketStatus.Valid ? grant : null;

    /// <summary>Redeems a single-use ticket for one attempt to open a session; null when the session may go on.</summary>
    public async ValueTask<Refusal?> RedeemAsync(ConsoleTicket ticket, string attempt, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(ticket);
        if (!ticket.SingleUse)
        {
            return null;
        }

        RedemptionAnswer answer;
        try
        {
            answer = await grains.ForKey<ITicketRedemptionGrain>(ticket.Nonce).TryRedeemAsync(ticket.ExpiresAt, attempt)
                .WaitAsync(ticketOptions.CurrentValue.RedeemTimeout, time, cancellationToken);
        }
        // A failed storage write (InconsistentStateException, a conflicting activation wrote first) is an OrleansException.
        catch (Exception exception) when (ClusterCall.Failed(exception))
        {
            LogRedeemFailed(logger, ticket.KeyId, TokenText.ForLog(ticket.Nonce), exception.Message);
            // A deadline that passed says nothing of the grain: it may still redeem for this attempt, and the page's
            // retry of this 1013 would then meet "already used" (seen under load: 1013, then 4409). Give this attempt's
            // redemption back at once: the grain takes the give-back after the redemption it queued behind, and the
            // retry, sent later, after both. Not awaited: the user's 1013 must not wait for a grain that is not answering.
            _ = GiveBackAsync(ticket, attempt);
            return new Refusal(CloseReasons.TryAgainLater, CloseReasons.TicketCheckUnavailableText, "ticket_check_unavailable");
        }

        switch (answer)
        {
            case RedemptionAnswer.Redeemed:
                return null;
            case RedemptionAnswer.Expired:
                return new Refusal(CloseReasons.TicketExpired, CloseReasons.TicketExpiredText, "ticket_expired");
            default:
                LogReplayed(logger, ticket.KeyId, TokenText.ForLog(ticket.Nonce), TokenText.ForLog(ticket.Token));
                return new Refusal(CloseReasons.TicketUsed, CloseReasons.TicketUsedText, "ticket_replayed");
        }
    }

    /// <summary>
    /// Gives a redemption back after its session never relayed, so the user's retry opens the console. Best effort with
    /// a deadline: when the grain cannot be reached, the ticket stays used (fail closed) and the warning says so.
    /// </summary>
    public async Task GiveBackAsync(ConsoleTicket ticket, string attempt)
    {
        ArgumentNullException.ThrowIfNull(ticket);
        try
        {
            if (await grains.ForKey<ITicketRedemptionGrain>(ticket.Nonce).GiveBackAsync(attempt).WaitAsync(ticketOptions.CurrentValue.RedeemTimeout, time))
            {
                LogGivenBack(logger, ticket.KeyId, TokenText.ForLog(ticket.Nonce));
            }
        }
        catch (Exception exception) when (ClusterCall.Failed(exception))
        {
            LogGiveBackFailed(logger, ticket.KeyId, TokenText.ForLog(ticket.Nonce), exception.Message);
        }
    }

    private static Presented Refuse(WebSocketCloseStatus status, string reason, string metric) => new(null, null, new Refusal(status, reason, metric));

    [LoggerMessage(EventId = EventIds.TicketReplayed, Level = LogLevel.Warning,
        Message = "Refused a replayed single-use ticket (key {KeyId}, nonce {Nonce}) for token {Token}")]
    private static partial void LogReplayed(ILogger logger, string keyId, string nonce, string token);

    [LoggerMessage(EventId = EventIds.TicketGivenBack, Level = LogLevel.Information,
        Message = "Gave a single-use ticket (key {KeyId}, nonce {Nonce}) back: its session never reached the VM, so it opens the console once more")]
    private static partial void LogGivenBack(ILogger logger, string keyId, string nonce);

    [LoggerMessage(EventId = EventIds.TicketGiveBackFailed, Level = LogLevel.Warning,
        Message = "Could not give a single-use ticket (key {KeyId}, nonce {Nonce}) back after its session failed; it stays used: {Error}")]
    private static partial void LogGiveBackFailed(ILogger logger, string keyId, string nonce, string error);

    [LoggerMessage(EventId = EventIds.TicketRedeemFailed, Level = LogLevel.Warning,
        Message = "Could not redeem a single-use ticket (key {KeyId}, nonce {Nonce}), refused it: {Error}")]
    private static partial void LogRedeemFailed(ILogger logger, string keyId, string nonce, string error);
}
