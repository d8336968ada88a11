using Microsoft.Extensions.DependencyInjection;
using Orleans.TestingHost;
using OrleansVncCluster.Relay.Cluster;
using OrleansVncCluster.Relay.Tokens;

namespace OrleansVncCluster.Tests.Tokens;

/// <summary>
/// A source's index goes to its grain without a copy when both sit on one silo (as the sync grain and its index usually
/// do): at 1,000,000 VMs each copy was a pair of 1M-entry dictionaries at the sync's memory peak.
/// </summary>
public sealed class TokenIndexHandOverTests
{
    [Fact]
    public async Task WithinASilo_TheIndexGrainKeepsTheDictionariesItIsGiven_AndCopiesThemBeforeAChange()
    {
        var builder = new InProcessTestClusterBuilder(1);
        builder.ConfigureSilo((_, silo) => silo.AddMemoryGrainStorage(TokenStorage.Name));
        await using var cluster = builder.Build();
        await cluster.DeployAsync();
        var grains = cluster.Silos[0].ServiceProvider.GetRequiredService<IGrainFactory>();
        var index = grains.GetGrain<ITokenIndexGrain>("hand-over");
        var fingerprints = new Dictionary<string, string>(StringComparer.Ordinal) { ["token-a"] = "f1", ["token-b"] = "f2" };
        var vms = new Dictionary<string, string>(StringComparer.Ordinal) { ["101"] = "token-a" };

        await index.SetWithVmsAsync(fingerprints, vms);

        // The contract is that the caller never touches them again; breaking it here shows the grain holds the very
        // dictionary it was given (a copy would not see the change).
        vms["102"] = "token-b";
        Assert.Equal("token-b", await index.FindVmAsync("102"));

        // Forgetting a token replaces the index rather than changing the dictionary that was handed over.
        await index.ForgetAsync("token-b");
        Assert.Equal(2, fingerprints.Count);
        Assert.Equal(["token-a"], (await index.GetAsync()).Keys);
    }
}
