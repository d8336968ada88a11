using Microsoft.Extensions.Configuration;
using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Orleans.TestingHost;
using OrleansVncCluster.AbiquoSimulator.World;
using OrleansVncCluster.AbiquoSimulator;
using OrleansVncCluster.Relay.Cluster;
using OrleansVncCluster.Relay.Sources;
using OrleansVncCluster.Relay.Tokens;

namespace OrleansVncCluster.Tests.Sync;

/// <summary>
/// The Abiquo simulator and a 2-silo in-process cluster whose silos run the token sync against it every second,
/// with memory token storage and in-memory reminders, as the embedded node configures them.
/// </summary>
public sealed class SyncClusterFixture : IAsyncLifetime
{
    public const string Password = "sync-Test";

    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(1);

    /// <summary>Long enough for a few intervals with backoff on a loaded 2-core machine.</summary>
    public static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    public static readonly GenerationSettings World = new() { Seed = 11, Vms = 40, Enterprises = 4 };

    public SimulatorHost Simulator { get; private set; } = null!;

    public InProcessTestCluster Cluster { get; private set; } = null!;

    public IGrainFactory Grains => Cluster.Client;

    /// <summary>What both silos logged at Information and above, with each record's structured values.</summary>
    public LogCapture Logs { get; } = new();

    public async ValueTask InitializeAsync()
    {
        Simulator = await SimulatorHost.StartAsync(new SimulatorSettings { Password = Password, World = World, Urls = ["http://127.0.0.1:0"] });
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Abiquo:ApiUrl"] = Simulator.ApiUrl,
            ["Abiquo:User"] = "admin",
            ["Abiquo:Password"] = Password,
            ["Abiquo:SyncInterval"] = Interval.ToString(),
            ["Abiquo:KeeperInterval"] = "00:00:00.500",
            ["Abiquo:Timeout"] = "00:00:05",
        }).Build();

        var builder = new InProcessTestClusterBuilder(2);
        builder.ConfigureSilo((_, silo) =>
        {
            silo.AddMemoryGrainStorage(TokenStorage.Name);
            silo.AddMemoryGrainStorage(TicketStorage.Name);
            silo.UseInMemoryReminderService();
            silo.Services.AddSingleton(TimeProvider.System);
            silo.Services.AddSingleton<ILoggerProvider>(Logs);
            silo.Services.AddTokenSync(configuration);
        });
        Cluster = builder.Build();
        await Cluster.DeployAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await Cluster.DisposeAsync();
        await Simulator.DisposeAsync();
    }

    /// <summary>Back to the seeded world without faults.</summary>
    public void Reset()
    {
        Simulator.Simulator.Faults.Clear();
        Simulator.Simulator.Reset(World);
    }

    public Task<SyncStatus> StatusAsync() => Grains.GetGrain<ITokenSyncGrain>(TokenSync.Key).GetStatusAsync();

    public Task<ConsoleTokenEntry?> TokenAsync(string token) => Grains.GetGrain<ITokenGrain>(token).GetAsync();

    /// <summary>The token the simulator's VM should have.</summary>
    public static string TokenOf(SimVm vm) => TokenText.Md5Token(vm.VdrpIP!, vm.VdrpPort);

    /// <summary>
    /// Every token the simulator's world should give: one per deployed address, except addresses that VMs of several
    /// enterprises report (the generator reuses ports across tenants, as Abiquo does), which get none.
    /// </summary>
    public IReadOnlyList<string> ExpectedTokens() =>
        [.. Simulator.Simulator.World.Vms(null, 0, null)!.Items.Where(v => v.Vm.VdrpPort > 0)
            .GroupBy(v => TokenOf(v.Vm))
            .Where(g => g.Select(v => v.Vm.EnterpriseId).Distinct().Count() == 1)
            .Select(g => g.Key)];

    /// <summary>A deployed VM no other VM shares its IP:port with, so its token is its own.</summary>
    public SimVm VmWithOwnAddress()
    {
        var deployed = Simulator.Simulator.World.Vms(null, 0, null)!.Items.Select(v => v.Vm).Where(v => v.VdrpPort > 0).ToList();
        return deployed.First(v => deployed.Count(o => (o.VdrpIP, o.VdrpPort) == (v.VdrpIP, v.VdrpPort)) == 1);
    }

    /// <summary>Waits until every expected token exists in the token grains.</summary>
    public Task WaitForAllTokensAsync() =>
        Eventually.ThatAsync(async () =>
        {
            var entries = await Task.WhenAll(ExpectedTokens().Select(TokenAsync));
            return entries.All(e => e is not null);
        }, Patience, "the token grains never held every token of the simulator's deployed VMs");

    /// <summary>Waits for a sync that starts after now and ends without error.</summary>
    public async Task<SyncStatus> WaitForCleanSyncAsync()
    {
        var after = DateTimeOffset.UtcNow;
        SyncStatus status = new();
        await Eventually.ThatAsync(async () =>
        {
            status = await StatusAsync();
            return status.LastRunAt > after && status.LastError is null;
        }, Patience, "no sync started and finished cleanly");
        return status;
    }
}

/// <summary>Polls for a condition instead of sleeping for a guessed time.</summary>
public static class Eventually
{
    public static async Task ThatAsync(Func<Task<bool>> condition, TimeSpan timeout, string failure)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"{failure} within {timeout.TotalSeconds:0} s");
            }

            await Task.Delay(50, TestContext.Current.CancellationToken);
        }
    }
}

/// <summary>Keeps every log record of the silos it is given to, with its event id and structured values.</summary>
public sealed class LogCapture : ILoggerProvider
{
    private readonly ConcurrentQueue<LogRecord> _records = new();

    /// <summary>The records so far, oldest first.</summary>
    public IReadOnlyList<LogRecord> Records => [.. _records];

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void Dispose()
    {
    }

    /// <summary>One record: its category, event id, message and the values its template named.</summary>
    public sealed record LogRecord(string Category, int EventId, string Message, IReadOnlyDictionary<string, object?> Values);

    private sealed class Logger(LogCapture capture, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Information;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!IsEnabled(logLevel))
            {
                return;
            }

            var values = state is IEnumerable<KeyValuePair<string, object?>> pairs
                ? pairs.GroupBy(p => p.Key).ToDictionary(g => g.Key, g => g.Last().Value)
                : new Dictionary<string, object?>();
            capture._records.Enqueue(new LogRecord(category, eventId.Id, formatter(state, exception), values));
        }
    }
}
