using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using OrleansVncCluster.Relay.Sources;

namespace OrleansVncCluster.Tests.Sources;

/// <summary>The sync's schedule lives in the Sync section; the old Abiquo keys are still read and reported.</summary>
public sealed class SyncOldKeysTests
{
    [Fact]
    public void OldKeys_AreStillRead_AndNamedWithTheirNewKeys()
    {
        using var services = Services(new() { ["Abiquo:ApiUrl"] = "https://abiquo.example/api", ["Abiquo:SyncInterval"] = "00:02:00", ["Abiquo:KeeperInterval"] = "00:00:03" });

        var sync = services.GetRequiredService<IOptions<SyncOptions>>().Value;

        Assert.Equal((TimeSpan.FromMinutes(2), TimeSpan.FromSeconds(3)), (sync.Interval, sync.KeeperInterval));
        Assert.Equal([("Abiquo:SyncInterval", "Sync:Interval"), ("Abiquo:KeeperInterval", "Sync:KeeperInterval")], services.GetRequiredService<SyncOldKeys>().Found);
    }

    [Fact]
    public void NewKeys_WinOverOldOnes()
    {
        using var services = Services(new() { ["Abiquo:ApiUrl"] = "https://abiquo.example/api", ["Abiquo:SyncInterval"] = "00:02:00", ["Sync:Interval"] = "00:00:45" });

        Assert.Equal(TimeSpan.FromSeconds(45), services.GetRequiredService<IOptions<SyncOptions>>().Value.Interval);
    }

    [Fact]
    public void NewKeysOnly_NoOldKeyIsReported()
    {
        using var services = Services(new() { ["Abiquo:ApiUrl"] = "https://abiquo.example/api", ["Sync:KeeperInterval"] = "00:00:02" });

        Assert.Equal(TimeSpan.FromSeconds(2), services.GetRequiredService<IOptions<SyncOptions>>().Value.KeeperInterval);
        Assert.Empty(services.GetRequiredService<SyncOldKeys>().Found);
    }

    [Fact]
    public void IntervalOutOfRange_IsRefusedWithTheNewKeysName()
    {
        var result = new SyncOptionsValidator().Validate(null, new SyncOptions { Interval = TimeSpan.Zero });

        Assert.Contains(result.Failures!, failure => failure.StartsWith("Sync:Interval", StringComparison.Ordinal));
    }

    private static ServiceProvider Services(Dictionary<string, string?> settings)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        return new ServiceCollection().AddLogging().AddSingleton<IConfiguration>(configuration).AddTokenSync(configuration).BuildServiceProvider();
    }
}
