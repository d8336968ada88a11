namespace OrleansVncCluster.Relay.Tokens;

/// <summary>What one token source last wrote: token to content fingerprint, so a source can apply only differences.</summary>
[Alias("vnc.ITokenIndexGrain")]
public interface ITokenIndexGrain : IGrainWithStringKey
{
    /// <summary>The tokens this source owns, with their fingerprints.</summary>
    [Alias("Get")]
    Task<Dictionary<string, string>> GetAsync();

    /// <summary>Replaces the index after a successful apply (the VM index is left as it was).</summary>
    [Alias("Set")]
    Task SetAsync(Dictionary<string, string> fingerprints);

    /// <summary>Drops one token from the index, so the source's next load writes it again even if it did not change
    /// (an operator's revocation holds until then).</summary>
    [Alias("Forget")]
    Task ForgetAsync(string token);
    /// <summary>Replaces the index and the VM index (VM id to token) after an apply.</summary>
    [Alias("SetWithVms")]
    Task SetWithVmsAsync(Dictionary<string, string> fingerprints, Dictionary<string, string> vms);

    /// <summary>
    /// The token the source last wrote for the VM <paramref name="vmId"/>, or null. A hint: the caller checks that the
    /// token's entry still names that VM (the index may be a sync behind).
    /// </summary>
    [Alias("FindVm")]
    Task<string?> FindVmAsync(string vmId);
}
