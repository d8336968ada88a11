using System.Globalization;
using System.Net.WebSockets;
using System.Net;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OrleansVncCluster.Relay.Cluster;
using OrleansVncCluster.Relay.Tokens;

namespace OrleansVncCluster.Relay.Admission;

/// <summary>The outcome of admission: a refusal (no <see cref="Entry"/>), or a session to relay holding its leases until disposed.</summary>
public sealed class AdmissionResult : IAsyncDisposable
{
    private readonly SessionAdmission? _owner;
    private readonly List<ISessionLeaseHolder> _holders;
    private readonly string _leaseId;

    internal AdmissionResult(Refusal refused) => (Refused, _holders, _leaseId) = (refused, [], "");

    internal AdmissionResult(ConsoleTokenEntry entry, SessionAdmission? owner = null, List<ISessionLeaseHolder>? holders = null, string leaseId = "")
    {
        Entry = entry;
        _owner = owner;
        _holders = holders ?? [];
        _leaseId = leaseId;
    }

    /// <summary>Why the session is refused; default when it is admitted.</summary>
    public Refusal Refused { get; }

    /// <summary>What to relay to; null when refused. Its target is the checked address when a target allow-list is set.</summary>
    public ConsoleTokenEntry? Entry { get; }

    /// <summary>Gives the session's leases back (in the background: the session is over, nobody waits on the grains).</summary>
    public ValueTask DisposeAsync()
    {
        if (_owner is not null && _holders.Count > 0)
        {
            _owner.Release(_holders, _leaseId);
        }

        return ValueTask.CompletedTask;
    }
}
