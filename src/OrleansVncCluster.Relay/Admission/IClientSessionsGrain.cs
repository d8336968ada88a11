using OrleansVncCluster.Relay.Tokens;

namespace OrleansVncCluster.Relay.Admission;

/// <summary>Live sessions of one client address (its key, see <see cref="Networks.ClientKey"/>) across the cluster.</summary>
[Alias("vnc.IClientSessionsGrain")]
public interface IClientSessionsGrain : IGrainWithStringKey, ISessionLeaseHolder
{
}
