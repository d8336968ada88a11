using Microsoft.Extensions.Options;

namespace OrleansVncCluster.Relay.Screenshots;

/// <summary>Screenshots of a VM's screen through the admin API (configuration section "Screenshots").</summary>
public sealed class ScreenshotOptions
{
    /// <summary>Configuration section.</summary>
    public const string Section = "Screenshots";

    /// <summary>Screenshots this node takes at once; more are refused with 429 (each holds a VNC connection and up to
    /// 64 MiB of pixels while it runs).</summary>
    public int MaxConcurrent { get; set; } = 4;

    /// <summary>Deadline for one screenshot, from the dial to the encoded PNG; past it the answer is 504.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(10);
}

internal sealed class ScreenshotOptionsValidator : IValidateOptions<ScreenshotOptions>
{
    public ValidateOptionsResult Validate(string? name, ScreenshotOptions options)
    {
        var errors = new List<string>();
        if (options.MaxConcurrent is < 1 or > 64)
        {
            errors.Add($"Screenshots:MaxConcurrent is {options.MaxConcurrent}: set 1 to 64 (screenshots taken at once per node)");
        }

        if (options.Timeout <= TimeSpan.Zero || options.Timeout > TimeSpan.FromMinutes(2))
        {
            errors.Add($"Screenshots:Timeout is {options.Timeout}: set a deadline above zero and at most 00:02:00, e.g. 00:00:10");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
