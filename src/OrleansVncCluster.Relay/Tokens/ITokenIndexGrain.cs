namespace OrleansVncCluster.Relay.Tokens;

/// <summary>What one token source last wrote: token to content fingerprint, so a source can apply only differences.</summary>
[Alias("vnc.ITokenIndexGrain")]
public interface ITokenIndexGrain : IGrainWithStringKey
{
    /// <summary>The tokens this source owns, with their fingerprints.</summary>
    [Alias("Get")]
    Task<Dictionary<string, string>> GetAsync();

    /// <summary>Replaces the index after a successful apply.</summary>
    [Alias("Set")]
    Task SetAsync(Dictionary<string, string> fingerprints);

    /// <summary>Drops one token from the index, so the source's next load writes it again even if it did not change
    /// (an operator's revocation holds until then).</summary>
    [Alias("Forget")]
    Task ForgetAsync(string token);
}
