using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using OrleansVncCluster.AbiquoSimulator;
using OrleansVncCluster.AbiquoSimulator.World;
using OrleansVncCluster.Relay.Abiquo;

namespace OrleansVncCluster.Tests.Abiquo;

/// <summary>
/// The Abiquo simulator as a real HTTP server on two free loopback ports (the second one stands for a proxy that
/// hrefs may name). Tests reset it before use.
/// </summary>
public sealed class SimulatorFixture : IAsyncLifetime
{
    public const string Password = "s3cret-Test";

    public static readonly GenerationSettings World = new() { Seed = 7, Vms = 60, Enterprises = 5 };

    public SimulatorHost Host { get; private set; } = null!;

    public Simulator Simulator => Host.Simulator;

    public async ValueTask InitializeAsync() =>
        Host = await SimulatorHost.StartAsync(new SimulatorSettings
        {
            Password = Password,
            World = World,
            Urls = ["http://127.0.0.1:0", "http://127.0.0.1:0"],
        });

    public async ValueTask DisposeAsync() => await Host.DisposeAsync();

    /// <summary>Back to the seeded world, no faults, no page cap, hrefs naming the request's host.</summary>
    public void Reset(GenerationSettings? world = null)
    {
        Simulator.Faults.Clear();
        Simulator.MaxPageSize = 0;
        Simulator.PublicUrl = null;
        Simulator.Reset(world ?? World);
    }

    /// <summary>Options for a client of this simulator as the administrator.</summary>
    public AbiquoOptions Options(Action<AbiquoOptions>? change = null)
    {
        var options = new AbiquoOptions { ApiUrl = Host.ApiUrl, User = "admin", Password = Password, Timeout = TimeSpan.FromSeconds(10) };
        change?.Invoke(options);
        return options;
    }

    /// <summary>A client of this simulator (or of another API URL given in <paramref name="change"/>).</summary>
    public AbiquoClient Client(Action<AbiquoOptions>? change = null) => CreateClient(Options(change));

    public static AbiquoClient CreateClient(AbiquoOptions options) =>
        new(new HttpClient(AbiquoHttp.CreateHandler(options)) { Timeout = Timeout.InfiniteTimeSpan },
            Microsoft.Extensions.Options.Options.Create(options), NullLogger<AbiquoClient>.Instance);

    /// <summary>Every VM the simulator holds.</summary>
    public IReadOnlyList<VmView> AllVms() => Simulator.World.Vms(null, 0, null)!.Items;
}
