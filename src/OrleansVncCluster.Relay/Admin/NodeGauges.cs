using System.Diagnostics.Metrics;
using Microsoft.Extensions.Options;
using OrleansVncCluster.Relay.Admission;
using OrleansVncCluster.Relay.Cli;
using OrleansVncCluster.Relay.Diagnostics;
using OrleansVncCluster.Relay.Sessions;

namespace OrleansVncCluster.Relay.Admin;

/// <summary>
/// The instruments read at scrape time from the floors below (sessions, drain, limits, cluster membership, the sync's
/// status, the build), added to the node's meter (<see cref="RelayMetrics"/>). Nothing here runs between scrapes except
/// <see cref="SyncStatusPoller"/>.
/// </summary>
public sealed class NodeGauges
{
    /// <summary>Creates the instruments; the exporter calls their callbacks on each scrape.</summary>
    public NodeGauges(RelayMetrics metrics, SessionRegistry sessions, DrainState drain, IOptionsMonitor<AdmissionOptions> admission,
        SyncStatusPoller sync, IServiceProvider services)
    {
        var meter = metrics.Meter;
        meter.CreateObservableGauge("vnc_relay_active_sessions", () => sessions.Count, description: "Live console sessions on this node.");
        meter.CreateObservableGauge("vnc_relay_draining", () => drain.IsDraining ? 1 : 0, description: "1 while this node drains.");
        meter.CreateObservableGauge("vnc_relay_max_sessions", () => admission.CurrentValue.MaxSessions,
            description: "Relay:MaxSessions, the node's session cap (0: no cap).");
        meter.CreateObservableGauge("vnc_relay_build_info", () => new Measurement<int>(1, new KeyValuePair<string, object?>("version", VersionCommand.Version)),
            description: "Always 1; the version label is what vnc-relay --version prints.");
        meter.CreateObservableCounter("vnc_relay_relayed_to_target_bytes", () => metrics.EndedBytesToTarget + sessions.Snapshot().Sum(s => s.BytesToTarget),
            description: "Bytes relayed browser to VNC server (ended sessions, and live ones so far).");
        meter.CreateObservableCounter("vnc_relay_relayed_to_client_bytes", () => metrics.EndedBytesToClient + sessions.Snapshot().Sum(s => s.BytesToClient),
            description: "Bytes relayed VNC server to browser (ended sessions, and live ones so far).");

        // Resolved at the first scrape: the silo's membership service exists once the host is built.
        meter.CreateObservableGauge("vnc_relay_cluster_members", () => services.GetService<IClusterMembershipService>() is { } membership
                ? [new Measurement<int>(membership.CurrentSnapshot.Members.Values.Count(m => m.Status == SiloStatus.Active))]
                : Array.Empty<Measurement<int>>(),
            description: "Active silos (relay nodes) in the cluster, as this node sees the membership.");

        meter.CreateObservableGauge("vnc_relay_sync_last_success_timestamp_seconds", () => sync.Latest?.LastSuccessAt is { } at
                ? [new Measurement<double>(at.ToUnixTimeMilliseconds() / 1000.0)]
                : Array.Empty<Measurement<double>>(),
            description: "When the token sync last finished without an error (Unix time); absent until it has, and without Abiquo:ApiUrl.");
        meter.CreateObservableGauge("vnc_relay_sync_consecutive_failures", () => sync.Latest is { } status
                ? [new Measurement<int>(status.ConsecutiveFailures)]
                : Array.Empty<Measurement<int>>(),
            description: "Failed token syncs in a row (0 after a success).");
        meter.CreateObservableGauge("vnc_relay_sync_held_removals", () => sync.Latest is { } status
                ? status.Sources.Select(s => new Measurement<int>(s.HeldRemovals ?? 0, new KeyValuePair<string, object?>("source", s.Name)))
                : [],
            description: "Removals the mass-removal guard holds, by source (0: nothing held); POST /api/sync releases them once confirmed.");
    }
}
