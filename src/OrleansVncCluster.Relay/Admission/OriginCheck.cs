using Microsoft.Extensions.Options;
using OrleansVncCluster.Relay.Diagnostics;

namespace OrleansVncCluster.Relay.Admission;

/// <summary>
/// Cross-site WebSocket hijacking: browsers send cookies with cross-site upgrades and apply no CORS to them, so an
/// upgrade from a page of another site is refused. It runs before the upgrade and its refusal is a 403, not a close frame.
/// </summary>
public sealed partial class OriginCheck(IOptionsMonitor<AdmissionOptions> options, ILogger<OriginCheck> logger) : IAdmissionCheck
{
    /// <inheritdoc/>
    public ValueTask<Refusal?> CheckAsync(AdmissionContext context, CancellationToken cancellationToken)
    {
        var settings = options.CurrentValue;
        List<string> allowed = settings.PublicUrl is { Length: > 0 } publicUrl ? [.. settings.AllowedOrigins, publicUrl] : settings.AllowedOrigins;
        if (OriginPolicy.IsAllowed(context.Origin, context.Host, allowed))
        {
            return ValueTask.FromResult<Refusal?>(null);
        }

        LogOriginRefused(logger, context.Client, context.Origin);
        return ValueTask.FromResult<Refusal?>(new Refusal(CloseReasons.Forbidden,
            $"Origin {context.Origin} may not open consoles here; add it to Relay:AllowedOrigins.", "origin_refused"));
    }

    [LoggerMessage(EventId = EventIds.OriginRefused, Level = LogLevel.Warning,
        Message = "Refused a cross-site WebSocket upgrade from {Client}: origin {Origin} is not allowed (403)")]
    private static partial void LogOriginRefused(ILogger logger, string client, string origin);
}
