namespace OrleansVncCluster.Tests.Rfb;

/// <summary>The VeNCrypt X.509 subtypes the scripted server expects the relay to choose.</summary>
public enum RfbTestX509Subtype : uint
{
    X509None = 260,
    X509Vnc = 261,
}
