using System.Globalization;

namespace OrleansVncCluster.Relay.Recording;

/// <summary>Where and how one player connection plays: from <paramref name="AtMs"/> into the recording, at
/// <paramref name="Speed"/> times real time, or showing the screen at <paramref name="AtMs"/> and waiting when
/// <paramref name="Paused"/>. The page asks for a new connection for every seek, pause and change of speed.</summary>
public sealed record PlaybackRequest(uint AtMs, int Speed, bool Paused)
{
    /// <summary>The speeds the page offers; nothing faster is played (a player streams as fast as the socket takes
    /// up to the asked moment anyway).</summary>
    public static readonly int[] Speeds = [1, 2, 4, 8, 16];

    /// <summary>Reads <c>at</c> (ms, default 0), <c>speed</c> (1, 2, 4, 8 or 16, default 1) and <c>paused</c> (0 or 1,
    /// default 0); null and a reason when one is something else.</summary>
    public static PlaybackRequest? Parse(IQueryCollection query, out string reason)
    {
        ArgumentNullException.ThrowIfNull(query);
        reason = "";
        var at = 0u;
        var speed = 1;
        if (query.TryGetValue("at", out var atText) && !uint.TryParse(atText, NumberStyles.None, CultureInfo.InvariantCulture, out at))
        {
            reason = "at must be a whole number of milliseconds into the recording";
            return null;
        }

        if (query.TryGetValue("speed", out var speedText) && (!int.TryParse(speedText, NumberStyles.None, CultureInfo.InvariantCulture, out speed) || !Speeds.Contains(speed)))
        {
            reason = "speed must be 1, 2, 4, 8 or 16";
            return null;
        }

        var paused = query["paused"].ToString();
        if (paused is not ("" or "0" or "1"))
        {
            reason = "paused must be 0 or 1";
            return null;
        }

        return new PlaybackRequest(at, speed, paused == "1");
    }
}
