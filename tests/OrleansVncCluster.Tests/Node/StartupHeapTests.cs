using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using OrleansVncCluster.Relay.Abiquo;
using OrleansVncCluster.Relay.Node;
using OrleansVncCluster.Relay.Sessions;
using OrleansVncCluster.Relay.Sources;
using OrleansVncCluster.Relay.Tokens;

namespace OrleansVncCluster.Tests.Node;

/// <summary>
/// The start's garbage is collected before /readyz says ready, and only once the node has started and read its token
/// files: a collection before those would leave their survivors young, to be copied under the first sessions' load.
/// </summary>
public sealed class StartupHeapTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task Collects_OnlyOnceTheHostStartedAndTheTokenFilesWereRead_ThenSaysSettled()
    {
        var (lifetime, files, heap) = await StartAsync(new TokenOptions { Files = ["tokens.cfg"] });

        lifetime.Started.Cancel();
        await Task.Delay(200);
        Assert.False(heap.Settled, "not settled while the token files are still being read");

        var fullCollections = GC.CollectionCount(GC.MaxGeneration);
        files.MarkDone();
        await Eventually(() => heap.Settled, "settled once the host started and the files were read");
        // Two full collections: each promotes its survivors one generation only.
        Assert.True(GC.CollectionCount(GC.MaxGeneration) - fullCollections >= 2,
            $"at least two full collections ran ({GC.CollectionCount(GC.MaxGeneration) - fullCollections})");
        await heap.StopAsync(CancellationToken.None);
    }

    [Fact]
    public async Task WaitsForTheHostToStart_EvenWithNoTokenFiles()
    {
        var (lifetime, _, heap) = await StartAsync(new TokenOptions());

        await Task.Delay(200);
        Assert.False(heap.Settled, "not settled before the host started (the silo joined, the listeners open)");

        lifetime.Started.Cancel();
        await Eventually(() => heap.Settled, "settled once the host started");
        await heap.StopAsync(CancellationToken.None);
    }

    [Fact]
    public async Task WaitsForTheNodeDirectoryToTakeTheNodesRegistration()
    {
        var registration = new DirectoryRegistration();
        var (lifetime, _, heap) = await StartAsync(new TokenOptions(), registration);

        lifetime.Started.Cancel();
        await Task.Delay(200);
        Assert.False(heap.Settled, "not settled before the node directory lists the node (the cluster's session list would miss it)");

        registration.MarkDone();
        await Eventually(() => heap.Settled, "settled once the node directory took the registration");
        await heap.StopAsync(CancellationToken.None);
    }

    [Fact]
    public async Task ANodeStoppedBeforeItStarted_StopsWithoutCollecting()
    {
        var (_, _, heap) = await StartAsync(new TokenOptions());

        await heap.StopAsync(CancellationToken.None).WaitAsync(Wait);
        Assert.False(heap.Settled, "a node that never started did not settle");
    }

    /// <summary>
    /// A started <see cref="StartupHeap"/> on a lifetime the test starts and token files it marks read; the node directory
    /// took its registration already unless the test gives one.
    /// </summary>
    internal static async Task<(Lifetime Lifetime, TokenFilesLoaded Files, StartupHeap Heap)> StartAsync(TokenOptions tokens, DirectoryRegistration? registration = null)
    {
        var (lifetime, files) = (new Lifetime(), new TokenFilesLoaded(Options.Create(tokens)));
        if (registration is null)
        {
            registration = new DirectoryRegistration();
            registration.MarkDone();
        }

        // No rehearsal configured (Relay:StartupRehearsal zero), so its resolver is never asked.
        var rehearsal = new StartupRehearsal(new FixedOptions<RelayOptions>(new RelayOptions()), Options.Create(new TargetOptions()), Options.Create(new AbiquoOptions()), new SessionRehearsal(), null!, null!, TimeProvider.System, NullLogger<StartupRehearsal>.Instance);
        var heap = new StartupHeap(lifetime, files, registration, rehearsal, NullLogger<StartupHeap>.Instance);
        await heap.StartAsync(CancellationToken.None);
        return (lifetime, files, heap);
    }

    internal static async Task Eventually(Func<bool> condition, string what)
    {
        var until = DateTime.UtcNow + Wait;
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < until, $"within {Wait.TotalSeconds:F0} s: {what}");
            await Task.Delay(20);
        }
    }

    internal sealed class Lifetime : IHostApplicationLifetime
    {
        public CancellationTokenSource Started { get; } = new();

        public CancellationToken ApplicationStarted => Started.Token;

        public CancellationToken ApplicationStopping => CancellationToken.None;

        public CancellationToken ApplicationStopped => CancellationToken.None;

        public void StopApplication()
        {
        }
    }
}
