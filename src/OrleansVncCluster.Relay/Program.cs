using OrleansVncCluster.Relay.Cli;
using OrleansVncCluster.Relay.Hosting;

namespace OrleansVncCluster.Relay;

/// <summary>Entry point of the vnc-relay node: picks the command, then hands over to <see cref="RelayNode"/>.</summary>
public static class Program
{
    /// <summary>Runs the node (or a one-shot command).</summary>
    public static async Task<int> Main(string[] args)
    {
        if (args is ["abiquo-tokens", ..])
        {
            return await AbiquoTokensCommand.RunAsync(args[1..]);
        }

        if (args is [DrainCommand.Name, ..])
        {
            return await DrainCommand.RunAsync(args[1..]);
        }

        var request = CommandLine.Parse(args);
        if (request.Help)
        {
            System.Console.Out.WriteLine(CommandLine.Usage);
            return 0;
        }

        if (request.Error is { } error)
        {
            await System.Console.Error.WriteLineAsync($"vnc-relay: {error}\n\n{CommandLine.Usage}");
            return 2;
        }

        return request.Daemonize ? Daemon.Detach(args) : await RelayNode.RunAsync(request);
    }
}
