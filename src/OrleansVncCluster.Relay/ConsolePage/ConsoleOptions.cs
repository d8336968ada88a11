using Microsoft.Extensions.Options;

namespace OrleansVncCluster.Relay.ConsolePage;

/// <summary>The browser console page (configuration section "Console").</summary>
public sealed class ConsoleOptions
{
    /// <summary>Configuration section.</summary>
    public const string Section = "Console";

    /// <summary>
    /// Origins allowed to show the console in a frame (CSP frame-ancestors), e.g. the Abiquo UI "https://abiquo.example.com".
    /// The node's own origin always may. Empty (the default) forbids every other site from framing it (clickjacking).
    /// </summary>
    public List<string> FrameAncestors { get; set; } = [];

    /// <summary>
    /// Extra WebSocket origins the page may connect to (CSP connect-src), for pages opened with noVNC's host/port
    /// parameters naming another relay, e.g. "wss://console.example.com". The page's own origin always may.
    /// </summary>
    public List<string> ConnectSources { get; set; } = [];
}

/// <summary>Start-up validation of <see cref="ConsoleOptions"/> with messages that say what to fix.</summary>
internal sealed class ConsoleOptionsValidator : IValidateOptions<ConsoleOptions>
{
    public ValidateOptionsResult Validate(string? name, ConsoleOptions options)
    {
        var errors = new List<string>();
        foreach (var ancestor in options.FrameAncestors)
        {
            if (!ConsoleHeaders.IsSourceExpression(ancestor, ["http", "https"]))
            {
                errors.Add($"Console:FrameAncestors entry '{ancestor}' is not an origin; write e.g. https://abiquo.example.com or https://*.example.com");
            }
        }

        foreach (var source in options.ConnectSources)
        {
            if (!ConsoleHeaders.IsSourceExpression(source, ["ws", "wss"]))
            {
                errors.Add($"Console:ConnectSources entry '{source}' is not a WebSocket origin; write e.g. wss://console.example.com");
            }
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
