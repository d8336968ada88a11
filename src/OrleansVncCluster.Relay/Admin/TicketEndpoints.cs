using Microsoft.Extensions.Options;
using OrleansVncCluster.Relay.Admission;
using OrleansVncCluster.Relay.ConsolePage;
using OrleansVncCluster.Relay.Diagnostics;
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
        RelayMetrics metrics,
        IOptionsMonitor<TicketOptions> ticketOptions,
        IOptionsMonitor<AdmissionOptions> admissionOptions,
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

        if (body?.Token is not { Length: > 0 } token || !TokenText.IsWellFormed(token))
        {
            return Results.Problem("Send {\"token\": \"VM console token\"}: 1 to 256 printable characters without spaces.", statusCode: StatusCodes.Status400BadRequest);
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

        var lookup = await tokens.ResolveAsync(token, context.RequestAborted);
        if (lookup.Status == LookupStatus.Unknown)
        {
            return Results.Problem($"No console token {TokenText.ForLog(token)} is known to the cluster.", statusCode: StatusCodes.Status404NotFound);
        }

        if (lookup.Status == LookupStatus.Unavailable)
        {
            return Results.Problem("The token store did not answer in time: try again shortly.", statusCode: StatusCodes.Status503ServiceUnavailable);
        }

        var singleUse = body.SingleUse ?? settings.SingleUseByDefault;
        // Whole seconds: the ticket carries unix seconds, so say exactly what it carries.
        var expiresAt = DateTimeOffset.FromUnixTimeSeconds((time.GetUtcNow() + ttl).ToUnixTimeSeconds());
        var ticket = TicketText.Issue(key, token, expiresAt, singleUse, viewOnly: role == "view");
        metrics.TicketIssued();
        LogIssued(loggers.CreateLogger(typeof(TicketEndpoints).FullName!), TokenText.ForLog(token), key.Id, expiresAt, singleUse, role,
            context.Connection.RemoteIpAddress?.ToString() ?? "unknown");
        // The fragment never reaches a server, so the ticket stays out of access logs on the way to the page.
        var consoleUrl = $"{admissionOptions.CurrentValue.PublicUrl?.TrimEnd('/')}{ConsolePageHosting.PagePath}#{TicketGate.QueryName}={ticket}";
        return Results.Ok(new { ticket, expiresAt, singleUse, role, keyId = key.Id, consoleUrl });
    }

    [LoggerMessage(EventId = EventIds.TicketIssued, Level = LogLevel.Information,
        Message = "Issued a console ticket for token {Token} (key {KeyId}, expires {ExpiresAt:u}, single use {SingleUse}, role {Role}) to {Caller}")]
    private static partial void LogIssued(ILogger logger, string token, string keyId, DateTimeOffset expiresAt, bool singleUse, string role, string caller);
}
