using Microsoft.Extensions.Options;
using OrleansVncCluster.Relay.Abiquo;
using OrleansVncCluster.Relay.Admission;
using OrleansVncCluster.Relay.ConsolePage;
using OrleansVncCluster.Relay.Diagnostics;
using OrleansVncCluster.Relay.Recording;
using OrleansVncCluster.Relay.Sessions;
using OrleansVncCluster.Relay.Tickets;
using OrleansVncCluster.Relay.Tokens;

namespace OrleansVncCluster.Relay.Admin;

/// <summary>
/// Issues console tickets on the admin listener: <c>POST /api/tickets</c>, with the admin bearer token, or with the
/// ticket API key (Tickets:ApiKeyFile), which can do this and nothing else, so a cloud portal issuing tickets does not
/// hold the credential that drains nodes and closes sessions.
/// </summary>
public static partial class TicketEndpoints
{
    /// <summary>Maps the endpoint; call next to the admin API.</summary>
    public static RouteHandlerBuilder MapTicketApi(this IEndpointRouteBuilder endpoints, int adminPort) =>
        endpoints.MapPost("/api/tickets", IssueAsync).WithMetadata(new AdminPortMetadata(adminPort)).RequireAuthorization(AdminPolicies.TicketIssuer);

    private static async Task<IResult> IssueAsync(
        TicketRequest? body,
        TicketKeyRing keys,
        TokenResolver tokens,
        IGrainFactory grains,
        RelayMetrics metrics,
        IOptionsMonitor<TicketOptions> ticketOptions,
        IOptionsMonitor<AdmissionOptions> admissionOptions,
        IOptionsMonitor<VncOptions> vncOptions,
        IOptionsMonitor<RecordingOptions> recordingOptions,
        TimeProvider time,
        ILoggerFactory loggers,
        HttpContext context)
    {
        var settings = ticketOptions.CurrentValue;
        if (keys.SigningKey is not { } key)
        {
            return Results.Problem("Console tickets are off: set Tickets:SecretFile (or the ticket-secret credential) on every node.",
                statusCode: StatusCodes.Status503ServiceUnavailable);
        }

        if (body is null || (body.Token is null && body.Vm is null))
        {
            return Results.Problem("Send {\"token\": \"VM console token\"} or {\"vm\": \"VM id\"} (or both).", statusCode: StatusCodes.Status400BadRequest);
        }

        if (body.Token is { } given && !TokenText.IsWellFormed(given))
        {
            return Results.Problem("token must be 1 to 256 printable characters without spaces.", statusCode: StatusCodes.Status400BadRequest);
        }

        if (body.Vm is { } askedVm && (askedVm.Length > TicketText.MaxVmIdLength || !TokenText.IsWellFormed(askedVm)))
        {
            return Results.Problem($"vm must be the VM's id: 1 to {TicketText.MaxVmIdLength} printable characters without spaces.", statusCode: StatusCodes.Status400BadRequest);
        }

        if (body.User is { } user && (user.Length is 0 or > TicketText.MaxUserLength || user.Any(char.IsControl)))
        {
            return Results.Problem($"user must be 1 to {TicketText.MaxUserLength} characters without control characters.", statusCode: StatusCodes.Status400BadRequest);
        }

        var ttl = body.TtlSeconds is { } seconds ? TimeSpan.FromSeconds(seconds) : settings.DefaultTtl;
        if (ttl <= TimeSpan.Zero || ttl > settings.MaxTtl)
        {
            return Results.Problem($"ttlSeconds must be between 1 and {(int)settings.MaxTtl.TotalSeconds} (Tickets:MaxTtl).", statusCode: StatusCodes.Status400BadRequest);
        }

        var role = body.Role ?? "control";
        if (role is not ("control" or "view"))
        {
            return Results.Problem("role must be \"control\" (the default) or \"view\" (watch only: input never reaches the VM).", statusCode: StatusCodes.Status400BadRequest);
        }

        var share = body.Share ?? false;
        if (share && role == "view")
        {
            return Results.Problem("share is for control tickets only: a view session may not hand out links to the console it watches.",
                statusCode: StatusCodes.Status400BadRequest);
        }

        if (share && !settings.AllowShare)
        {
            return Results.Problem("Sharing is turned off on this cluster (Tickets:AllowShare is false): issue the ticket without share.",
                statusCode: StatusCodes.Status400BadRequest);
        }

        var clipboard = ClipboardDirections.Both;
        if (body.Clipboard is { } askedClipboard && !ClipboardText.TryParse(askedClipboard, out clipboard))
        {
            return Results.Problem($"clipboard must be {ClipboardText.Choices}: which ways the console's clipboard may go (it only narrows Vnc:Clipboard).",
                statusCode: StatusCodes.Status400BadRequest);
        }

        var record = body.Record ?? false;
        if (record && recordingOptions.CurrentValue.RefusesTicketAsk() is { } notRecordable)
        {
            return Results.Problem(notRecordable + ".", statusCode: StatusCodes.Status400BadRequest);
        }

        var token = body.Token;
        if (token is null)
        {
            // Abiquo VM ids: the sync keeps a VM index next to its token index (Tokens/TokenIndex).
            token = await new TokenIndex(grains).FindVmAsync(AbiquoTokens.SourceName, body.Vm!);
            if (token is null)
            {
                return Results.Problem($"No console is known for VM {body.Vm}: it has no VNC address, the sync has not seen it yet, " +
                    "or it shares its address with a VM of another enterprise (then no token exists for that address).", statusCode: StatusCodes.Status404NotFound);
            }
        }

        var lookup = await tokens.ResolveAsync(token, context.RequestAborted);
        if (lookup.Status == LookupStatus.Unknown)
        {
            return Results.Problem(body.Token is null ? $"No console is known for VM {body.Vm} any more." : $"No console token {TokenText.ForLog(token)} is known to the cluster.",
                statusCode: StatusCodes.Status404NotFound);
        }

        if (lookup.Status == LookupStatus.Unavailable)
        {
            return Results.Problem("The token store did not answer in time: try again shortly.", statusCode: StatusCodes.Status503ServiceUnavailable);
        }

        var entry = lookup.Entry!;
        if (body.Vm is { } vm && !string.Equals(entry.Vm?.Id, vm, StringComparison.Ordinal))
        {
            // The token (or the VM index, a sync behind) names another VM now: a ticket for it would open the wrong screen.
            return Results.Problem($"The console token {TokenText.ForLog(token)} leads to VM {entry.Vm?.Id ?? "(none)"}, not to VM {vm}.",
                statusCode: body.Token is null ? StatusCodes.Status404NotFound : StatusCodes.Status409Conflict);
        }

        var singleUse = body.SingleUse ?? settings.SingleUseByDefault;
        // Whole seconds: the ticket carries unix seconds, so say exactly what it carries.
        var expiresAt = DateTimeOffset.FromUnixTimeSeconds((time.GetUtcNow() + ttl).ToUnixTimeSeconds());
        var ticket = TicketText.Issue(key, token, TicketBinding.Of(entry), expiresAt, singleUse, viewOnly: role == "view", entry.Vm?.Id, body.User, clipboard, share, record);
        metrics.TicketIssued();
        LogIssued(loggers.CreateLogger(typeof(TicketEndpoints).FullName!), TokenText.ForLog(token), entry.Vm?.Id ?? "(none)", body.User ?? "(none)", key.Id, expiresAt,
            singleUse, role, share, context.Connection.RemoteIpAddress?.ToString() ?? "unknown");
        // The fragment never reaches a server, so the ticket stays out of access logs on the way to the page.
        var consoleUrl = $"{admissionOptions.CurrentValue.PublicUrl?.TrimEnd('/')}{ConsolePageHosting.PagePath}#{TicketGate.QueryName}={ticket}";
        // What the session gets where the cluster's default is this node's: the ticket narrows it, never widens it.
        var sessionClipboard = ClipboardText.Format(clipboard & vncOptions.CurrentValue.ClipboardDirections);
        // Whether the session will be recorded where this node's policy is the cluster's (an enterprise's setting applies).
        var recording = recordingOptions.CurrentValue.ModeFor(entry.Vm?.Enterprise, record).ToString().ToLowerInvariant();
        return Results.Ok(new { ticket, expiresAt, singleUse, role, keyId = key.Id, vm = entry.Vm?.Id, enterprise = entry.Vm?.Enterprise, user = body.User,
            clipboard = sessionClipboard, share, recording, consoleUrl });
    }

    [LoggerMessage(EventId = EventIds.TicketIssued, Level = LogLevel.Information,
        Message = "Issued a console ticket for token {Token}, VM {Vm}, user {User} (key {KeyId}, expires {ExpiresAt:u}, single use {SingleUse}, role {Role}, may share {Share}) to {Caller}")]
    private static partial void LogIssued(ILogger logger, string token, string vm, string user, string keyId, DateTimeOffset expiresAt, bool singleUse, string role, bool share, string caller);
}
