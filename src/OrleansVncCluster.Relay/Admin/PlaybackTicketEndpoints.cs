using Microsoft.Extensions.Options;
using OrleansVncCluster.Relay.Admission;
using OrleansVncCluster.Relay.ConsolePage;
using OrleansVncCluster.Relay.Diagnostics;
using OrleansVncCluster.Relay.Recording;
using OrleansVncCluster.Relay.Tickets;

namespace OrleansVncCluster.Relay.Admin;

/// <summary>
/// <c>POST /api/recordings/{id}/playback[?user=NAME]</c> on the admin API: a playback ticket for one recording and the
/// page URL that plays it. The ticket rides in the URL's fragment, as console tickets do, so it stays out of every
/// access log on the way to the page.
/// </summary>
public static partial class PlaybackTicketEndpoints
{
    /// <summary>Where the playback page is served.</summary>
    public const string PagePath = ConsolePageHosting.PagePath + "/playback";

    /// <summary>Maps /recordings/{id}/playback on the admin API group.</summary>
    public static RouteHandlerBuilder MapPlaybackTickets(this RouteGroupBuilder api) => api.MapPost("/recordings/{id}/playback", IssueAsync);

    private static async Task<IResult> IssueAsync(
        string id,
        HttpContext context,
        IRecordingFiles files,
        TicketKeyRing keys,
        IOptionsMonitor<PlaybackOptions> options,
        IOptionsMonitor<AdmissionOptions> admissionOptions,
        TimeProvider time,
        ILoggerFactory loggers)
    {
        if (keys.SigningKey is not { } key)
        {
            return Results.Problem("Playback tickets are sealed with the ticket secret: set Tickets:SecretFile (or the ticket-secret credential) on every node.",
                statusCode: StatusCodes.Status503ServiceUnavailable);
        }

        if (id.Length > PlaybackText.MaxRecordingIdLength)
        {
            return Results.Problem($"A recording id has at most {PlaybackText.MaxRecordingIdLength} characters.", statusCode: StatusCodes.Status400BadRequest);
        }

        var user = context.Request.Query["user"].ToString();
        if (user.Length > TicketText.MaxUserLength || user.Any(char.IsControl))
        {
            return Results.Problem($"user must be at most {TicketText.MaxUserLength} characters without control characters.", statusCode: StatusCodes.Status400BadRequest);
        }

        await using (var file = await files.OpenAsync(id, context.RequestAborted))
        {
            if (file is null)
            {
                return Results.Problem($"No node has recording {id}: it was never made, retention deleted it, or its node is gone.", statusCode: StatusCodes.Status404NotFound);
            }
        }

        // Whole seconds: the ticket carries unix seconds, so say exactly what it carries.
        var expires = DateTimeOffset.FromUnixTimeSeconds((time.GetUtcNow() + options.CurrentValue.PlaybackTicketLifetime).ToUnixTimeSeconds());
        var ticket = PlaybackText.Issue(key, id, user.Length > 0 ? user : null, expires);
        LogIssued(loggers.CreateLogger(typeof(PlaybackTicketEndpoints).FullName!), id, user.Length > 0 ? user : "(none)", key.Id, expires,
            context.Connection.RemoteIpAddress?.ToString() ?? "unknown");
        var url = $"{admissionOptions.CurrentValue.PublicUrl?.TrimEnd('/')}{PagePath}#{TicketGate.QueryName}={ticket}";
        return Results.Ok(new { url, ticket, expires });
    }

    [LoggerMessage(EventId = EventIds.PlaybackTicketIssued, Level = LogLevel.Information,
        Message = "Issued a playback ticket for recording {RecordingId}, user {User} (key {KeyId}, expires {ExpiresAt:u}) to {Caller}")]
    private static partial void LogIssued(ILogger logger, string recordingId, string user, string keyId, DateTimeOffset expiresAt, string caller);
}
