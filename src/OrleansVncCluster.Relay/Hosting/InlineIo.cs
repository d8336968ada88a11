using Microsoft.Extensions.Options;
using OrleansVncCluster.Relay.Diagnostics;

namespace OrleansVncCluster.Relay.Hosting;

/// <summary>
/// Where socket completions run (<c>Relay:InlineIo</c>, on by default): on the thread that saw the socket ready, rather
/// than handed to the thread pool. A console is mostly small messages (key and pointer events are 6-8 bytes), and each
/// hand-off of a relayed message between the epoll thread, the thread pool and Kestrel's send loop cost more CPU than the
/// relaying: 1 KiB echo took 77 µs of node CPU per message with hand-offs and 45 µs inline (docs/benchmarks.md).
/// </summary>
/// <remarks>
/// Inline completions are safe only while nothing on a socket's completion blocks: a blocked epoll thread stalls every
/// socket it serves. The relay's session path does not block (logs go through an asynchronous sink, grain and Redis calls
/// are awaited), so it is on. A recorded session writes into the page cache on that thread (a buffered file flushed by a
/// timer), which holds it only when the recordings disk cannot keep up: such a node, or one that measures otherwise,
/// turns it off. The runtime reads its variable once, at the first socket, so this
/// runs before the node opens any (Redis is dialled right after); a variable the operator set himself wins.
/// </remarks>
public static partial class InlineIo
{
    /// <summary>The setting.</summary>
    public const string Key = "Relay:InlineIo";

    /// <summary>The runtime's switch for inline completions of its own sockets (the VNC side, Redis, the silo's links).</summary>
    internal const string RuntimeVariable = "DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS";

    /// <summary>Turns inline completions on for Kestrel's connections and the runtime's sockets, unless the setting is false.</summary>
    /// <returns>Whether they are on.</returns>
    public static bool Apply(WebApplicationBuilder builder, ILogger logger) =>
        Apply(builder, logger, Environment.GetEnvironmentVariable, Environment.SetEnvironmentVariable);

    /// <summary>
    /// As <see cref="Apply(WebApplicationBuilder, ILogger)"/>, reading and setting the runtime's variable through
    /// <paramref name="getVariable"/> and <paramref name="setVariable"/>: tests must not turn inline completions on for
    /// every socket of their own process.
    /// </summary>
    internal static bool Apply(WebApplicationBuilder builder, ILogger logger, Func<string, string?> getVariable, Action<string, string> setVariable)
    {
        var configured = builder.Configuration[Key];
        var enabled = true;
        if (!string.IsNullOrWhiteSpace(configured) && !bool.TryParse(configured, out enabled))
        {
            throw new OptionsValidationException(Key, typeof(InlineIo), [$"{Key} is '{configured}'; use true (the default) or false"]);
        }

        if (enabled)
        {
            if (getVariable(RuntimeVariable) is null)
            {
                setVariable(RuntimeVariable, "1");
            }

            builder.WebHost.UseSockets(sockets => sockets.UnsafePreferInlineScheduling = true);
        }

        LogInlineIo(logger, enabled, getVariable(RuntimeVariable) == "1");
        return enabled;
    }

    [LoggerMessage(EventId = EventIds.InlineIo, Level = LogLevel.Information,
        Message = "Inline socket completions: Kestrel {Kestrel}, runtime sockets {Runtime} (" + Key + ")")]
    private static partial void LogInlineIo(ILogger logger, bool kestrel, bool runtime);
}
