using OrleansVncCluster.Relay.Cli;
using OrleansVncCluster.Relay.Hosting;

namespace OrleansVncCluster.Relay;

/// <summary>Entry point of vnc-relay: a sub-command (Cli/AdminCommandLine) or the node, built and run by Hosting/.</summary>
public static class Program
{
    /// <summary>Runs the node, or a sub-command (status, sessions, kill, revoke, drain, undrain, sync, check, history, abiquo-tokens, --version).</summary>
    public static async Task<int> Main(string[] args)
    {
        if (AdminCommandLine.Handles(args))
        {
            return await AdminCommandLine.RunAsync(args, NodeCheck.RunAsync);
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
