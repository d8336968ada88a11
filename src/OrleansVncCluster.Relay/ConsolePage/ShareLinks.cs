using Microsoft.Extensions.Options;
using OrleansVncCluster.Relay.Admission;
using OrleansVncCluster.Relay.Diagnostics;
using OrleansVncCluster.Relay.Sessions;
using OrleansVncCluster.Relay.Tickets;
using OrleansVncCluster.Relay.Tokens;

namespace OrleansVncCluster.Relay.ConsolePage;

/// <summary>
/// The console page's "share view-only link" button (issue 14): <c>POST {Relay:Path}/share?resume=PAGEID</c> on the
/// public listener. The page holds no admin credential, only its resume credential (an HttpOnly, SameSite=Strict cookie,
/// <see cref="ResumeCookie"/>), so that cookie is the authority, as for the presence call (Sessions/ResumeGrants): a live
/// control session whose ticket carried the share flag gets a single-use view ticket for the same VM, living
/// Tickets:ShareTtl, for the user "shared by USER" (the audit then tells the helper's session from the owner's).
/// SameSite=Strict keeps other sites' pages from sending the cookie; the Origin check (as for the WebSocket upgrade)
/// also keeps out same-site pages of other origins. Every refusal is a 403 with a reason in words; the ticket is never logged.
/// </summary>
public sealed partial class ShareLinks(
    TicketGate gate,
    ResumeGrants resume,
    IOptionsMonitor<AdmissionOptions> admission,
    ILogger<ShareLinks> logger)
{
    /// <summary>The share call's path below Relay:Path (next to the presence call, so the page's resume cookie reaches it).</summary>
    public const string ShareSuffix = "/share";

    /// <summary>Issues a view-only link for the page's session, or says why not (see the class summary).</summary>
    public async Task<IResult> ShareAsync(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        context.Response.Headers.CacheControl = "no-store";
        var client = context.Connection.RemoteIpAddress?.ToString() ?? "unknown";
        var settings = admission.CurrentValue;
        List<string> allowed = settings.PublicUrl is { Length: > 0 } publicUrl ? [.. settings.AllowedOrigins, publicUrl] : settings.AllowedOrigins;
        var origin = context.Request.Headers.Origin.ToString();
        if (!OriginPolicy.IsAllowed(origin, context.Request.Host.Value ?? "", allowed))
        {
            return Refuse(client, "origin_refused", $"origin {origin} may not share consoles here");
        }

        if (ResumeCookie.PageId(context.Request) is not { } page)
        {
            return Results.BadRequest(new { error = "name the page: ?resume= and the id it opened its console with" });
        }

        if (gate.VerifyResume(ResumeCookie.Read(context.Request)) is not { } grant)
        {
            return Refuse(client, "no_credential", "no valid resume credential for this page: only an open console can share");
        }

        if (grant.ViewOnly)
        {
            return Refuse(client, "view_session", "a view-only session cannot share the console it watches");
        }

        if (!gate.MayShare(grant))
        {
            return Refuse(client, "not_allowed", grant.MayShare
                ? "sharing is turned off on this cluster"
                : "this console's ticket does not allow sharing: ask the portal for one that does");
        }

        var (status, presence) = await resume.SessionOfAsync(context, page, grant);
        if (status == LookupStatus.Unknown)
        {
            return Refuse(client, "revoked", "this console was revoked or now leads to another VM");
        }

        if (status != LookupStatus.Found)
        {
            return ResumeGrants.Unavailable();
        }

        if (!presence.Live)
        {
            return Refuse(client, "session_gone", "this console session has ended: only an open console can share");
        }

        var sharedAs = SharedUser(grant.User);
        if (gate.IssueShare(grant, sharedAs, out var expiresAt) is not { } ticket)
        {
            return ResumeGrants.Unavailable();
        }

        LogShared(logger, grant.User ?? "(none)", grant.ResumedSession!, TokenText.ForLog(grant.Token), grant.VmId ?? "(none)", sharedAs, expiresAt, client);
        // The fragment never reaches a server (as the ticket API's consoleUrl), so the ticket stays out of access logs;
        // without Relay:PublicUrl the link is relative and the page makes it absolute on its own origin.
        var url = $"{settings.PublicUrl?.TrimEnd('/')}{ConsolePageHosting.PagePath}#{TicketGate.QueryName}={ticket}";
        return Results.Ok(new { url, expires = expiresAt });
    }

    /// <summary>Who a shared link is for: "shared by USER", cut to what a ticket carries.</summary>
    internal static string SharedUser(string? owner)
    {
        var text = owner is { Length: > 0 } ? $"shared by {owner}" : "shared";
        return text.Length > TicketText.MaxUserLength ? text[..TicketText.MaxUserLength] : text;
    }

    private IResult Refuse(string client, string cause, string reason)
    {
        LogRefused(logger, client, cause);
        return Results.Json(new { error = reason }, statusCode: StatusCodes.Status403Forbidden);
    }

    [LoggerMessage(EventId = EventIds.ConsoleShared, Level = LogLevel.Information,
        Message = "User {User} shared a view-only link to session {SessionId} of token {Token}, VM {Vm}, for {SharedAs} (single use, expires {ExpiresAt:u}) from {Client}")]
    private static partial void LogShared(ILogger logger, string user, string sessionId, string token, string vm, string sharedAs, DateTimeOffset expiresAt, string client);

    [LoggerMessage(EventId = EventIds.ShareRefused, Level = LogLevel.Information,
        Message = "Refused a console page's share call from {Client}: {Cause}")]
    private static partial void LogRefused(ILogger logger, string client, string cause);
}
