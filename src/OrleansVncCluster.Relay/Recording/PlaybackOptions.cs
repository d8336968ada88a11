using Microsoft.Extensions.Options;

namespace OrleansVncCluster.Relay.Recording;

/// <summary>Playback of recordings in the console page (configuration section "Recording", the Playback* keys).</summary>
public sealed class PlaybackOptions
{
    /// <summary>How long a playback ticket from <c>POST /api/recordings/{id}/playback</c> opens its recording. The page
    /// reconnects for every seek, pause and change of speed with the same ticket, so this bounds how long a page can be
    /// watched, not just how long it takes to open.</summary>
    public TimeSpan PlaybackTicketLifetime { get; set; } = TimeSpan.FromHours(1);

    /// <summary>Players this node runs at once; more are refused (1013, try again later). Each holds an open file and
    /// reads at most one record ahead of the browser.</summary>
    public int MaxPlayers { get; set; } = 32;

    /// <summary>Longest one player connection lives, playing or paused; then it closes and the page reconnects where it was.</summary>
    public TimeSpan MaxPlayerLifetime { get; set; } = TimeSpan.FromHours(2);

    /// <summary>Recording indexes (keyframes, input markers) kept in memory, most recently used first.</summary>
    public int IndexCacheSize { get; set; } = 16;
}

internal sealed class PlaybackOptionsValidator : IValidateOptions<PlaybackOptions>
{
    public ValidateOptionsResult Validate(string? name, PlaybackOptions options)
    {
        var errors = new List<string>();
        if (options.PlaybackTicketLifetime < TimeSpan.FromMinutes(1) || options.PlaybackTicketLifetime > TimeSpan.FromDays(1))
        {
            errors.Add($"Recording:PlaybackTicketLifetime is {options.PlaybackTicketLifetime}: set 00:01:00 to 1.00:00:00, e.g. 01:00:00");
        }

        if (options.MaxPlayers is < 1 or > 1024)
        {
            errors.Add($"Recording:MaxPlayers is {options.MaxPlayers}: set 1 to 1024 (playbacks this node runs at once)");
        }

        if (options.MaxPlayerLifetime < TimeSpan.FromMinutes(1))
        {
            errors.Add($"Recording:MaxPlayerLifetime is {options.MaxPlayerLifetime}: set at least 00:01:00, e.g. 02:00:00");
        }

        if (options.IndexCacheSize is < 1 or > 1024)
        {
            errors.Add($"Recording:IndexCacheSize is {options.IndexCacheSize}: set 1 to 1024 (recording indexes kept in memory)");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
