namespace OrleansVncCluster.Relay.Admission;

/// <summary>Why a console target was refused.</summary>
public enum TargetVerdict
{
    /// <summary>The target may be dialled.</summary>
    Allowed,

    /// <summary>An address of the target lies outside Limits:AllowedTargetNetworks.</summary>
    NotAllowed,

    /// <summary>The target is one of this node's own listeners, the silo endpoint of any cluster member, or the cluster's Redis.</summary>
    OwnEndpoint,

    /// <summary>The host name did not resolve.</summary>
    Unresolved,

    /// <summary>A link-local, unspecified, multicast or broadcast address: refused even with no allow-list.</summary>
    Reserved,
}
