using OrleansVncCluster.Relay.Cli;
using OrleansVncCluster.Relay.Hosting;

namespace OrleansVncCluster.Relay;

/// <summary>Entry point of the vnc-relay node: picks the command, then builds and runs the node (Hosting/).</summary>
public static class Program
{
    /// <summary>Runs the node (or a one-shot command).</summary>
    public static async Task<int> Main(string[] args)
    {
        if (VersionCommand.Matches(args))
        {
            System.Console.Out.WriteLine(VersionCommand.Line);
            return 0;
        }

        if (args is ["abiquo-tokens", ..])
        {
            return await AbiquoTokensCommand.RunAsync(args[1..]);
        }

        if (args is [DrainCommand.Name, ..])
        {
            return await DrainCommand.RunAsync(args[1..]);
        }

        var request = CommandLine.Parse(args);
        if (request.Help || request.Error is not null)
        {
            await (request.Help ? Console.Out : Console.Error).WriteLineAsync(request.Help ? CommandLine.Usage : $"vnc-relay: {request.Error}\n\n{CommandLine.Usage}");
            return request.Help ? 0 : 2;
        }

        return request.Daemonize ? Daemon.Detach(args) : await RelayNode.RunAsync(async () =>
        {
            var builder = WebApplication.CreateBuilder(RelayNode.BuilderOptions(request));
            await builder.AddVncRelayNode(request);
            var app = builder.Build();
            app.MapVncRelayNode();
            return app;
        });
    }
}
