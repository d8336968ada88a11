using System.Net;

namespace OrleansVncCluster.Tests.Sessions;

/// <summary>A silo's identity for types that only name their node (audit records, recordings), without a silo.</summary>
internal sealed class FakeSilo : ILocalSiloDetails
{
    public string Name => "fake-silo";

    public string ClusterId => "test";

    public string DnsHostName => "localhost";

    public SiloAddress SiloAddress { get; } = SiloAddress.New(new IPEndPoint(IPAddress.Loopback, 11111), 1);

    public SiloAddress GatewayAddress => SiloAddress;
}
