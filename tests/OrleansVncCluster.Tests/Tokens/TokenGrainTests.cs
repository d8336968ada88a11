using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;
using Orleans.TestingHost;
using OrleansVncCluster.Relay.Cluster;
using OrleansVncCluster.Relay.Tokens;

namespace OrleansVncCluster.Tests.Tokens;

/// <summary>
/// A 2-silo in-process cluster with memory storage, shared by the token grain tests. It counts the calls each token
/// grain receives, by method, so a test can tell whether a write went through the grain.
/// </summary>
public sealed class TokenClusterFixture : IAsyncLifetime
{
    private readonly ConcurrentDictionary<string, int> _calls = new(StringComparer.Ordinal);

    public InProcessTestCluster Cluster { get; private set; } = null!;

    public IGrainFactory Grains => Cluster.Client;

    /// <summary>Reads and creates token records in storage as a node does.</summary>
    public StoredTokens Stored => new(Cluster.Silos[0].ServiceProvider, Grains);

    /// <summary>Calls of <paramref name="method"/> (for example "SetAsync") the grain of <paramref name="token"/> received.</summary>
    public int CallsOf(string method, string token) => _calls.GetValueOrDefault(method + " " + token);

    public async ValueTask InitializeAsync()
    {
        var builder = new InProcessTestClusterBuilder(2);
        builder.ConfigureSilo((_, silo) =>
        {
            silo.AddMemoryGrainStorage(TokenStorage.Name);
            silo.AddMemoryGrainStorage(TicketStorage.Name);
            silo.Services.AddSingleton(TimeProvider.System);
            silo.AddIncomingGrainCallFilter(context =>
            {
                if (context.Grain is ITokenGrain && context.InterfaceMethod is { } method)
                {
                    _calls.AddOrUpdate(method.Name + " " + context.TargetId.Key, 1, (_, count) => count + 1);
                }

                return context.Invoke();
            });
        });
        Cluster = builder.Build();
        await Cluster.DeployAsync();
    }

    public async ValueTask DisposeAsync() => await Cluster.DisposeAsync();
}

public sealed class TokenGrainTests(TokenClusterFixture fixture) : IClassFixture<TokenClusterFixture>
{
    private static ConsoleTokenEntry Entry(string host, int port, string source = "test") =>
        new() { Target = ConsoleTarget.Tcp(host, port), Source = source, Vm = new VmIdentity { Id = "250", Label = "mysql" } };

    [Fact]
    public async Task SetThenGet_ReturnsTheEntry()
    {
        var grain = fixture.Grains.GetGrain<ITokenGrain>("set-get");
        Assert.True(await grain.SetAsync(Entry("10.0.0.1", 5901)));
        var entry = await grain.GetAsync();
        Assert.Equal(ConsoleTarget.Tcp("10.0.0.1", 5901), entry!.Target);
        Assert.Equal("mysql", entry.Vm!.Label);
    }

    [Fact]
    public async Task ApplyingASource_KeepsAVmIndex_SoATicketCanBeAskedForByVm()
    {
        var source = "abiquo-test-" + Guid.NewGuid().ToString("N")[..8];
        var table = new TokenTable(fixture.Grains);
        var index = new TokenIndex(fixture.Grains);
        ConsoleTokenEntry Vm(string id, int port) => new()
        {
            Target = ConsoleTarget.Tcp("10.0.0.1", port), Source = source, Vm = new VmIdentity { Id = id, Enterprise = "Tenant" },
        };

        await table.ReplaceSourceAsync(source, new Dictionary<string, ConsoleTokenEntry> { ["token-a"] = Vm("101", 5901), ["token-b"] = Vm("102", 5902) },
            CancellationToken.None);
        Assert.Equal("token-a", await index.FindVmAsync(source, "101"));

        // VM 101 moved to another address (a new token), 102 was removed.
        await table.ReplaceSourceAsync(source, new Dictionary<string, ConsoleTokenEntry> { ["token-c"] = Vm("101", 5903) }, CancellationToken.None);

        Assert.Equal("token-c", await index.FindVmAsync(source, "101"));
        Assert.Null(await index.FindVmAsync(source, "102"));
    }

    [Fact]
    public async Task SettingTheSameContent_WritesNothing()
    {
        var grain = fixture.Grains.GetGrain<ITokenGrain>("same");
        Assert.True(await grain.SetAsync(Entry("10.0.0.1", 5901)));
        Assert.False(await grain.SetAsync(Entry("10.0.0.1", 5901)));
    }

    [Fact]
    public async Task Remove_DeletesOnlyWhenTheSourceOwnsIt()
    {
        var grain = fixture.Grains.GetGrain<ITokenGrain>("remove");
        await grain.SetAsync(Entry("10.0.0.1", 5901, source: "abiquo"));
        Assert.False(await grain.RemoveAsync("file:/x"));
        Assert.NotNull(await grain.GetAsync());
        Assert.True(await grain.RemoveAsync("abiquo"));
        Assert.Null(await grain.GetAsync());
    }

    [Fact]
    public async Task State_SurvivesDeactivation()
    {
        var grain = fixture.Grains.GetGrain<ITokenGrain>("survives");
        await grain.SetAsync(Entry("10.0.0.9", 5909));
        var management = fixture.Grains.GetGrain<IManagementGrain>(0);
        await management.ForceActivationCollection(TimeSpan.Zero);

        var entry = await fixture.Grains.GetGrain<ITokenGrain>("survives").GetAsync();
        Assert.Equal(5909, entry!.Target.Port);
    }

    [Fact]
    public async Task TokenTable_AppliesOnlyDifferencesAndRemovesVanishedTokens()
    {
        var table = new TokenTable(fixture.Grains);
        var source = "table-" + Guid.NewGuid().ToString("N");
        var first = new Dictionary<string, ConsoleTokenEntry> { ["t-a"] = Entry("1.1.1.1", 1, source), ["t-b"] = Entry("2.2.2.2", 2, source) };
        var initial = await table.ReplaceSourceAsync(source, first, CancellationToken.None);
        var second = new Dictionary<string, ConsoleTokenEntry> { ["t-a"] = Entry("1.1.1.1", 1, source), ["t-c"] = Entry("3.3.3.3", 3, source) };
        var plan = await table.PlanAsync(source, second);
        var applied = await table.ApplyAsync(plan, CancellationToken.None);

        Assert.Equal(2, initial.Written);
        Assert.Equal(1, plan.Unchanged);
        Assert.Equal(2, plan.PreviousCount);
        Assert.Equal((1, 1, 0), (applied.Written, applied.Removed, applied.Failed));
        Assert.Null(await fixture.Grains.GetGrain<ITokenGrain>("t-b").GetAsync());
        Assert.NotNull(await fixture.Grains.GetGrain<ITokenGrain>("t-c").GetAsync());
    }

    [Fact]
    public async Task Removal_IsBroadcastToRegisteredNodes()
    {
        var observer = await RegisterRecordingNodeAsync("recording", "revoked-token");
        var grain = fixture.Grains.GetGrain<ITokenGrain>("revoked-token");
        await grain.SetAsync(Entry("10.0.0.1", 5901));

        await grain.RemoveAsync(null);

        var revoked = await observer.Revoked.Task.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(("revoked-token", RevocationCause.Removed), revoked);
    }

    [Fact]
    public async Task OperatorRevocation_DeletesTheToken_BroadcastsItsCause_AndNamesTheSource()
    {
        var observer = await RegisterRecordingNodeAsync("recording-operator", "operator-revoked");
        var grain = fixture.Grains.GetGrain<ITokenGrain>("operator-revoked");
        await grain.SetAsync(Entry("10.0.0.2", 5902, "file:/etc/tokens.cfg"));

        var source = await grain.RevokeByOperatorAsync();

        Assert.Equal("file:/etc/tokens.cfg", source);
        Assert.Null(await grain.GetAsync());
        Assert.Equal(("operator-revoked", RevocationCause.RevokedByOperator), await observer.Revoked.Task.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Null(await fixture.Grains.GetGrain<ITokenGrain>("never-written").RevokeByOperatorAsync());
    }

    [Fact]
    public async Task ForgottenToken_IsWrittenAgain_ByTheSourcesNextUnchangedLoad()
    {
        var table = new TokenTable(fixture.Grains);
        var source = "forget-" + Guid.NewGuid().ToString("N");
        var tokens = new Dictionary<string, ConsoleTokenEntry> { ["f-a"] = Entry("1.1.1.1", 1, source), ["f-b"] = Entry("2.2.2.2", 2, source) };
        await table.ReplaceSourceAsync(source, tokens, CancellationToken.None);
        await fixture.Grains.GetGrain<ITokenGrain>("f-a").RevokeByOperatorAsync();

        var unchanged = await table.PlanAsync(source, tokens);
        await new TokenIndex(fixture.Grains).ForgetAsync(source, "f-a");
        var afterForget = await table.PlanAsync(source, tokens);
        await table.ApplyAsync(afterForget, CancellationToken.None);

        Assert.Empty(unchanged.Upserts);
        Assert.Equal(["f-a"], afterForget.Upserts.Keys);
        Assert.NotNull(await fixture.Grains.GetGrain<ITokenGrain>("f-a").GetAsync());
    }

    /// <summary>A node in the directory that records the revocations broadcast to it.</summary>
    /// <summary>A node that records the revocation of <paramref name="token"/>: the directory also replays other tests'
    /// recent revocations to a node it has just met, which this one ignores.</summary>
    private async Task<RecordingNode> RegisterRecordingNodeAsync(string name, string token)
    {
        var observer = new RecordingNode(token);
        var reference = fixture.Grains.CreateObjectReference<INodeObserver>(observer);
        await fixture.Grains.GetGrain<INodeDirectoryGrain>(NodeDirectory.Key).RegisterAsync(name, fixture.Cluster.Silos[0].SiloAddress, reference);
        return observer;
    }

    private sealed class RecordingNode(string watched) : INodeObserver
    {
        public TaskCompletionSource<(string, RevocationCause)> Revoked { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task TokenRevokedAsync(string token, RevocationCause cause)
        {
            if (token == watched)
            {
                Revoked.TrySetResult((token, cause));
            }

            return Task.CompletedTask;
        }

        public Task<List<SessionInfo>> ListSessionsAsync() => Task.FromResult(new List<SessionInfo>());

        public Task<bool> CloseSessionAsync(string sessionId, string reason) => Task.FromResult(false);

        public Task<long> RecordingLengthAsync(string recordingId) => Task.FromResult(-1L);

        public Task<byte[]> ReadRecordingAsync(string recordingId, long offset, int count) => Task.FromResult(Array.Empty<byte>());
    }
}
