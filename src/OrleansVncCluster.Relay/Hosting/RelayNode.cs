using Microsoft.Extensions.Options;
using OrleansVncCluster.Relay.Cli;
using OrleansVncCluster.Relay.Diagnostics;
using Serilog;

namespace OrleansVncCluster.Relay.Hosting;

/// <summary>Runs one relay node: the bootstrap logger, and the exit code for each way start-up can fail.</summary>
public static class RelayNode
{
    /// <summary>The web application options for a request from the command line.</summary>
    public static WebApplicationOptions BuilderOptions(CommandLineRequest request) => new()
    {
        Args = [.. request.NativeArgs],
        ContentRootPath = AppContext.BaseDirectory,
    };

    /// <summary>
    /// Builds the node with <paramref name="build"/> and runs it until it is stopped; returns the process exit code:
    /// 78 (EX_CONFIG) for settings that do not validate, 1 when the node cannot start for another reason.
    /// </summary>
    public static async Task<int> RunAsync(Func<Task<WebApplication>> build)
    {
        Log.Logger = new LoggerConfiguration().Enrich.WithProperty("SourceContext", "vnc-relay").WriteTo.Console(LogFormat.Formatter(null)).CreateBootstrapLogger();
        try
        {
            var app = await build();
            await app.RunAsync();
            // A component that stopped the node because it could not work (e.g. the HAProxy agent's port) set it.
            return Environment.ExitCode;
        }
        catch (OptionsValidationException exception)
        {
            Log.Fatal("Invalid configuration, the node did not start:\n  {Problems}", string.Join("\n  ", exception.Failures));
            return 78;
        }
        catch (InvalidOperationException exception)
        {
            Log.Fatal(exception, "The node could not start: {Problem}", exception.Message);
            return 1;
        }
        finally
        {
            await Log.CloseAndFlushAsync();
        }
    }
}
