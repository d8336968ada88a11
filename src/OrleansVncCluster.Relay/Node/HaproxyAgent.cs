using System.Net;
using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.Options;
using OrleansVncCluster.Relay.Admission;
using OrleansVncCluster.Relay.Diagnostics;
using OrleansVncCluster.Relay.Sessions;
using OrleansVncCluster.Relay.Sources;

namespace OrleansVncCluster.Relay.Node;

/// <summary>
/// HAProxy's agent-check: one line per connection, then close. "ready" while serving, "drain" while draining (HAProxy
/// stops sending new sessions but keeps live ones) and until the node's start is over (<see cref="StartupHeap"/>: its
/// token files read, its registration in the node directory taken, its rehearsal run, its garbage collected; what
/// /readyz waits for too, while HAProxy's health check, /healthz, passes from the first seconds), "maxconn:N" when a
/// per-node session cap is set. Only the agent can undo its own "drain", so a restarted node simply says "ready" again
/// once it has started.
/// </summary>
/// <remarks>
/// During its start a node says "drain" only when another node of its cluster is active, so HAProxy has another server
/// for the new sessions. A node alone (a single-node site, or embedded clustering) says "ready" once its silo is active
/// and its token files were read (before that its users would get 4404, <see cref="TokenFilesLoaded"/>): they then
/// share the cores with the start-up rehearsal, which beats HAProxy answering 503 to all of them for its 15 s. Until
/// its own silo is active it cannot tell whether it is alone, and says "drain".
/// </remarks>
internal sealed partial class HaproxyAgent(DrainState drain, StartupHeap start, TokenFilesLoaded files, IClusterMembershipService membership, ILocalSiloDetails silo,
    IOptions<RelayOptions> options, IOptions<AdmissionOptions> admission, IHostApplicationLifetime lifetime, ILogger<HaproxyAgent> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (string.IsNullOrWhiteSpace(options.Value.AgentListen) || !ListenAddress.TryParse(options.Value.AgentListen, out var endpoint, out _))
        {
            return;
        }

        using var listener = new TcpListener(endpoint);
        try
        {
            listener.Start();
        }
        catch (SocketException exception)
        {
            // A node HAProxy cannot ask would never be drained gracefully: refuse to run, with what to fix.
            LogCannotListen(logger, endpoint, exception.Message);
            Environment.ExitCode = 1;
            // Not StopApplication() at once: this runs while the host is still starting, and a stop then cancels
            // Kestrel's bind, whose TaskCanceledException aborts the process (exit 134) instead of exiting with 1.
            lifetime.ApplicationStarted.Register(lifetime.StopApplication);
            return;
        }

        LogListening(logger, endpoint);
        while (!stoppingToken.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await listener.AcceptSocketAsync(stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            using (client)
            {
                try
                {
                    await client.SendAsync(Encoding.ASCII.GetBytes(Answer() + "\n"), SocketFlags.None, stoppingToken);
                    client.Shutdown(SocketShutdown.Both);
                }
                catch (SocketException)
                {
                    // HAProxy went away mid-check; it will ask again.
                }
            }
        }
    }

    /// <summary>The line HAProxy gets now.</summary>
    internal string Answer()
    {
        if (drain.IsDraining || (!start.Settled && SendElsewhereWhileStarting()))
        {
            return "drain";
        }

        return admission.Value.MaxSessions > 0 ? $"ready maxconn:{admission.Value.MaxSessions}" : "ready";
    }

    /// <summary>During the node's start: false only when it is alone in its cluster and its token files were read.</summary>
    private bool SendElsewhereWhileStarting() => !files.Done || !Alone(membership.CurrentSnapshot, silo.SiloAddress);

    /// <summary>True when <paramref name="self"/> is active in <paramref name="snapshot"/> and no other member is.</summary>
    internal static bool Alone(ClusterMembershipSnapshot snapshot, SiloAddress self) =>
        snapshot.GetSiloStatus(self) == SiloStatus.Active
        && !snapshot.Members.Values.Any(member => member.Status == SiloStatus.Active && !member.SiloAddress.Equals(self));

    [LoggerMessage(EventId = EventIds.AgentCannotListen, Level = LogLevel.Critical,
        Message = "The HAProxy agent cannot listen on {Endpoint}: {Error}. Another process holds the port: set Relay:AgentListen (Relay__AgentListen) to a free address, or stop the other process")]
    private static partial void LogCannotListen(ILogger logger, System.Net.IPEndPoint endpoint, string error);

    [LoggerMessage(EventId = EventIds.ListenerStarted, Level = LogLevel.Information, Message = "HAProxy agent answering on {Endpoint}")]
    private static partial void LogListening(ILogger logger, IPEndPoint endpoint);
}
