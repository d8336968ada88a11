namespace OrleansVncCluster.Relay.Cluster;

/// <summary>
/// Why a token's live sessions must end. The token grain says what happened; the relay (Node/LocalNode.cs) chooses the
/// close code and the words the user reads, so the grain needs none of the relay's vocabulary.
/// </summary>
[GenerateSerializer, Alias("vnc.RevocationCause")]
public enum RevocationCause
{
    /// <summary>The token was removed from its source (the VM is gone or its console was turned off).</summary>
    Removed,

    /// <summary>The token now leads to another target (the VM's console moved).</summary>
    Retargeted,

    /// <summary>An operator revoked the token (<c>DELETE /api/tokens/{token}</c>, <c>vnc-relay revoke</c>).</summary>
    RevokedByOperator,
}
