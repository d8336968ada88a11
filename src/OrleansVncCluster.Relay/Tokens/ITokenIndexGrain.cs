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
}
