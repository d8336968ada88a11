using Microsoft.Extensions.Options;
using OrleansVncCluster.Relay.Admission;
using OrleansVncCluster.Relay.Cluster;
using OrleansVncCluster.Relay.Diagnostics;
using OrleansVncCluster.Relay.Tickets;
using OrleansVncCluster.Relay.Tokens;

namespace OrleansVncCluster.Relay.Sessions;

/// <summary>
/// The console page's way back (issue 13, item 7) and its view of who else is there (item 3). On the WebSocket's 101 an
/// admitted session whose page asked (<c>?resume=PAGEID</c>) gets a resume credential (<see cref="ResumeText"/>) in the
/// page's cookie (<see cref="ResumeCookie"/>), bound to the session, its VM, role and user and good for
/// Tickets:ResumeWindow. The page's presence call, <c>GET {Relay:Path}/presence?resume=PAGEID</c>, is authorised by that
/// cookie alone: it answers the session's role, how many others watch the VM and whether the page may share it, and renews the credential while the
/// session lives (the token grain holds the session's lease under its id), so a session longer than the window stays
/// resumable and an ended one is resumable for one window only. A credential whose token is gone (revoked) or now leads
/// to another VM gets 410 and its cookie is dropped; the answer holds counts and a role, never a password, a token or
/// anything of another VM.
/// </summary>
public sealed partial class ResumeGrants(
    TicketGate gate,
    TokenResolver tokens,
    IGrainFactory grains,
    IOptionsMonitor<RelayOptions> relay,
    IOptionsMonitor<LimitsOptions> limits,
    RelayMetrics metrics,
    TimeProvider time,
    ILogger<ResumeGrants> logger)
{
    /// <summary>The presence call's path below Relay:Path.</summary>
    public const string PresenceSuffix = "/presence";

    /// <summary>The path the resume cookies are scoped to: the relay path, which the presence call sits under.</summary>
    public string CookiePath => relay.CurrentValue.Path.TrimEnd('/') is { Length: > 0 } path ? path : "/";

    /// <summary>Sets the page's resume credential for an admitted session, when the page named itself and resuming is on.</summary>
    public void Grant(HttpContext context, AdmissionResult admitted)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(admitted);
        if (ResumeCookie.PageId(context.Request) is not { } page || admitted.Binding is not { } binding
            || gate.IssueResume(admitted.SessionId, admitted.Token, binding, admitted.Ticket) is not { } credential)
        {
            return;
        }

        ResumeCookie.Write(context, page, CookiePath, credential, gate.ResumeWindow);
        if (admitted.Ticket?.ResumedSession is { } from)
        {
            metrics.SessionResumed();
            LogResumed(logger, admitted.SessionId, from, TokenText.ForLog(admitted.Token));
        }
    }

    /// <summary>Answers the page's presence call (see the class summary).</summary>
    public async Task<IResult> PresenceAsync(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        context.Response.Headers.CacheControl = "no-store";
        if (ResumeCookie.PageId(context.Request) is not { } page)
        {
            return Results.BadRequest(new { error = "name the page: ?resume= and the id it opened its console with" });
        }

        var presented = ResumeCookie.Read(context.Request);
        if (gate.VerifyResume(presented) is not { } grant)
        {
            if (presented is not null)
            {
                ResumeCookie.Delete(context, page, CookiePath);
            }

            return Results.Json(new { error = "no valid resume credential for this page" }, statusCode: StatusCodes.Status401Unauthorized);
        }

        var (status, presence) = await SessionOfAsync(context, page, grant);
        if (status == LookupStatus.Unknown)
        {
            return Results.Json(new { error = "this console was revoked or now leads to another VM" }, statusCode: StatusCodes.Status410Gone);
        }

        if (status != LookupStatus.Found)
        {
            return Unavailable();
        }

        if (presence.Live && gate.IssueResume(grant.ResumedSession!, grant.Token, grant.Binding!, grant) is { } renewed)
        {
            ResumeCookie.Write(context, page, CookiePath, renewed, gate.ResumeWindow);
        }

        return Results.Ok(new
        {
            role = grant.ViewOnly ? "view" : "control",
            live = presence.Live,
            viewers = presence.Viewers,
            // Whether the page shows its share button (ConsolePage/ShareLinks): a live control session whose ticket allowed it.
            mayShare = presence.Live && gate.MayShare(grant),
            // The page asks again well inside the window, so one lost call does not let the credential lapse.
            refreshSeconds = Math.Max(5, (int)(gate.ResumeWindow.TotalSeconds / 4)),
        });
    }

    /// <summary>
    /// What the cluster says of the session a valid resume credential names: Unknown when its token was revoked or now
    /// leads to another VM (the page's cookie is then dropped: admission would refuse it, 4404 or 4412, anyway),
    /// Unavailable when the token store or the token's grain did not answer, else Found with the session's presence.
    /// </summary>
    internal async Task<(LookupStatus Status, LeasePresence Presence)> SessionOfAsync(HttpContext context, string page, ConsoleTicket grant)
    {
        var lookup = await tokens.ResolveAsync(grant.Token, context.RequestAborted);
        if (lookup.Status == LookupStatus.Unknown || (lookup.Entry is { } entry && !TicketBinding.Matches(grant, entry)))
        {
            ResumeCookie.Delete(context, page, CookiePath);
            return (LookupStatus.Unknown, default);
        }

        if (lookup.Status != LookupStatus.Found)
        {
            return (lookup.Status, default);
        }

        try
        {
            var presence = await grains.ForKey<ITokenGrain>(grant.Token).PresenceAsync(grant.ResumedSession!)
                .WaitAsync(limits.CurrentValue.LeaseTimeout, time, context.RequestAborted);
            return (LookupStatus.Found, presence);
        }
        catch (Exception exception) when (ClusterCall.Failed(exception))
        {
            LogPresenceUnavailable(logger, TokenText.ForLog(grant.Token), exception.GetType().Name);
            return (LookupStatus.Unavailable, default);
        }
    }

    /// <summary>The answer when the cluster did not answer the page's call in time (the page tries again).</summary>
    internal static IResult Unavailable() =>
        Results.Json(new { error = "the cluster did not answer: try again shortly" }, statusCode: StatusCodes.Status503ServiceUnavailable);

    [LoggerMessage(EventId = EventIds.SessionResumed, Level = LogLevel.Information,
        Message = "Session {SessionId} resumes session {ResumedSession} of token {Token} with the page's resume credential")]
    private static partial void LogResumed(ILogger logger, string sessionId, string resumedSession, string token);

    [LoggerMessage(EventId = EventIds.PresenceUnavailable, Level = LogLevel.Warning,
        Message = "A console page's presence call for token {Token} got no answer from the token's grain ({Error})")]
    private static partial void LogPresenceUnavailable(ILogger logger, string token, string error);
}
