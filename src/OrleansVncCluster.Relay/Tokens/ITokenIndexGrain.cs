namespace OrleansVncCluster.Relay.Tokens;

/// <summary>
/// One shard of what a token source last wrote: token to content fingerprint, so a source can apply only differences, and
/// VM id to token. <see cref="TokenIndex"/> spreads a source over its shards; talk to it, not to these grains.
/// </summary>
/// <remarks>
/// A shard of a big source is still sizeable (a 1,000,000-VM sync: about 13,000 fingerprints and 15,600 VM ids each), and
/// Orleans deep-copies the arguments of a call between grains of one silo, which is where the sync grain and the shards
/// usually meet. So they are passed [Immutable]: the caller hands them over and never touches them again, and the grain
/// keeps them as its state and copies before a change. Calls between silos are serialized as before. (Orleans 10.4.2
/// ignores [return: Immutable], so the index <see cref="GetAsync"/> returns is still copied.)
/// </remarks>
[Alias("vnc.ITokenIndexGrain")]
public interface ITokenIndexGrain : IGrainWithStringKey
{
    /// <summary>The tokens this source owns, with their fingerprints.</summary>
    [Alias("Get")]
    Task<Dictionary<string, string>> GetAsync();

    /// <summary>Replaces the index after a successful apply (the VM index is left as it was).</summary>
    [Alias("Set")]
    Task SetAsync([Immutable] Dictionary<string, string> fingerprints);

    /// <summary>Drops one token from the index, so the source's next load writes it again even if it did not change
    /// (an operator's revocation holds until then).</summary>
    [Alias("Forget")]
    Task ForgetAsync(string token);
    /// <summary>Replaces the index and the VM index (VM id to token) after an apply; writes nothing when both are as stored.</summary>
    [Alias("SetWithVms")]
    Task SetWithVmsAsync([Immutable] Dictionary<string, string> fingerprints, [Immutable] Dictionary<string, string> vms);

    /// <summary>
    /// The token the source last wrote for the VM <paramref name="vmId"/>, or null. A hint: the caller checks that the
    /// token's entry still names that VM (the index may be a sync behind).
    /// </summary>
    [Alias("FindVm")]
    Task<string?> FindVmAsync(string vmId);
}
