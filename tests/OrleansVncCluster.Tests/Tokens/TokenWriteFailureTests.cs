using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Runtime.Hosting;
using Orleans.Storage;
using Orleans.TestingHost;
using OrleansVncCluster.Relay.Cluster;
using OrleansVncCluster.Relay.Tokens;

namespace OrleansVncCluster.Tests.Tokens;

/// <summary>A one-silo cluster whose token storage fails the writes a test asks it to, as Redis does during an outage or failover.</summary>
public sealed class FlakyStorageClusterFixture : IAsyncLifetime
{
    public InProcessTestCluster Cluster { get; private set; } = null!;

    public IGrainFactory Grains => Cluster.Client;

    public async ValueTask InitializeAsync()
    {
        var builder = new InProcessTestClusterBuilder(1);
        builder.ConfigureSilo((_, silo) =>
        {
            silo.Services.AddGrainStorage(TokenStorage.Name, (_, _) => new FlakyStorage());
            silo.Services.AddGrainStorage(TicketStorage.Name, (_, _) => new FlakyStorage());
            silo.Services.AddSingleton(TimeProvider.System);
        });
        Cluster = builder.Build();
        await Cluster.DeployAsync();
    }

    public async ValueTask DisposeAsync() => await Cluster.DisposeAsync();
}

/// <summary>
/// A failed storage write must leave a token grain's memory as stored. It once did not: the entry was set in memory before
/// the write, so the source's retry found "same content", wrote nothing and reported success, and the token was gone once
/// the activation was (RedisSentinelTests caught it: a token added during a failover never reached the new primary).
/// </summary>
public sealed class TokenWriteFailureTests(FlakyStorageClusterFixture fixture) : IClassFixture<FlakyStorageClusterFixture>
{
    private static ConsoleTokenEntry Entry(int port, string source = "test") =>
        new() { Target = ConsoleTarget.Tcp("10.0.0.1", port), Source = source };

    [Fact]
    public async Task AFailedWrite_LeavesTheGrainAsStored_SoTheRetryWritesTheToken()
    {
        var token = "flaky-" + Guid.NewGuid().ToString("N")[..8];
        var grain = fixture.Grains.GetGrain<ITokenGrain>(token);
        FlakyStorage.FailNextWrite($"token/{token}");

        await Assert.ThrowsAnyAsync<Exception>(() => grain.SetAsync(Entry(5901)));
        Assert.Null(await grain.GetAsync());
        Assert.False(FlakyStorage.Holds($"token/{token}"));

        Assert.True(await grain.SetAsync(Entry(5901)));
        Assert.True(FlakyStorage.Holds($"token/{token}"));
    }

    [Fact]
    public async Task ASourceWhoseTokenWriteFailed_WritesItOnItsNextApply()
    {
        var token = "flaky-" + Guid.NewGuid().ToString("N")[..8];
        var source = "file:/flaky-" + Guid.NewGuid().ToString("N")[..8];
        var table = new TokenTable(fixture.Grains);
        var desired = new Dictionary<string, ConsoleTokenEntry> { [token] = Entry(5902, source) };
        FlakyStorage.FailNextWrite($"token/{token}");

        var failed = await table.ReplaceSourceAsync(source, desired, CancellationToken.None);
        var retried = await table.ReplaceSourceAsync(source, desired, CancellationToken.None);

        Assert.Equal((0, 1), (failed.Written, failed.Failed));
        Assert.Equal((1, 0), (retried.Written, retried.Failed));
        Assert.True(FlakyStorage.Holds($"token/{token}"));
    }
}

/// <summary>Memory storage that fails the next write of the grains named by <see cref="FailNextWrite"/>.</summary>
internal sealed class FlakyStorage : IGrainStorage
{
    private static readonly ConcurrentDictionary<string, object?> Stored = new(StringComparer.Ordinal);
    private static readonly ConcurrentDictionary<string, bool> Failing = new(StringComparer.Ordinal);

    public static void FailNextWrite(string grainId) => Failing[grainId] = true;

    public static bool Holds(string grainId) => Stored.ContainsKey(grainId);

    public Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        if (Stored.TryGetValue(grainId.ToString(), out var state) && state is T typed)
        {
            grainState.State = typed;
            grainState.RecordExists = true;
            grainState.ETag = "1";
        }

        return Task.CompletedTask;
    }

    public Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        if (Failing.TryRemove(grainId.ToString(), out _))
        {
            throw new InvalidOperationException($"storage unavailable for {grainId} (test)");
        }

        Stored[grainId.ToString()] = grainState.State;
        grainState.RecordExists = true;
        grainState.ETag = Guid.NewGuid().ToString("N");
        return Task.CompletedTask;
    }

    public Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        Stored.TryRemove(grainId.ToString(), out _);
        grainState.RecordExists = false;
        grainState.ETag = null;
        return Task.CompletedTask;
    }
}
