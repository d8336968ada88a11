using System.Net.Http.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using OrleansVncCluster.AbiquoSimulator.Faults;
using OrleansVncCluster.AbiquoSimulator.World;
using OrleansVncCluster.Relay.Sources;
using OrleansVncCluster.Relay.Tokens;

namespace OrleansVncCluster.Tests.Sync;

/// <summary>The sync grain in a 2-silo cluster, polling the simulator every second.</summary>
public sealed class TokenSyncTests : IClassFixture<SyncClusterFixture>
{
    private readonly SyncClusterFixture _fixture;

    public TokenSyncTests(SyncClusterFixture fixture)
    {
        _fixture = fixture;
        fixture.Reset();
    }

    [Fact]
    public async Task Sync_WritesATokenForEveryDeployedVm()
    {
        await _fixture.WaitForAllTokensAsync();

        var vm = _fixture.VmWithOwnAddress();
        var entry = await _fixture.TokenAsync(SyncClusterFixture.TokenOf(vm));
        Assert.Equal(ConsoleTarget.Tcp(vm.VdrpIP!, vm.VdrpPort), entry!.Target);
        Assert.Equal(vm.Name, entry.Vm!.Name);
        Assert.Equal("abiquo", entry.Source);
    }

    [Fact]
    public async Task AddedVm_GetsItsToken()
    {
        var vm = _fixture.Simulator.Simulator.World.AddVm(new NewVm { VdrpIP = "10.99.0.1", VdrpPort = 5999, Password = "added1" }).Vm;

        await Eventually.ThatAsync(async () => await _fixture.TokenAsync(SyncClusterFixture.TokenOf(vm)) is { Password: "added1" },
            SyncClusterFixture.Patience, "the added VM's token never appeared");
    }

    [Fact]
    public async Task RemovedVm_LosesItsToken()
    {
        await _fixture.WaitForAllTokensAsync();
        var vm = _fixture.VmWithOwnAddress();

        _fixture.Simulator.Simulator.World.RemoveVm(vm.Id);

        await Eventually.ThatAsync(async () => await _fixture.TokenAsync(SyncClusterFixture.TokenOf(vm)) is null,
            SyncClusterFixture.Patience, "the removed VM's token was never removed");
    }

    [Fact]
    public async Task MovedVm_TokenFollowsItsNewAddress()
    {
        await _fixture.WaitForAllTokensAsync();
        var vm = _fixture.VmWithOwnAddress();

        var moved = _fixture.Simulator.Simulator.World.MoveVm(vm.Id, new VmMove { VdrpIP = "10.98.0.1", VdrpPort = 5990 })!.Vm;

        await Eventually.ThatAsync(async () =>
                await _fixture.TokenAsync(SyncClusterFixture.TokenOf(moved)) is { } entry && entry.Vm!.Id == vm.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)
                && await _fixture.TokenAsync(SyncClusterFixture.TokenOf(vm)) is null,
            SyncClusterFixture.Patience, "the moved VM's token did not move to its new address");
    }

    [Theory]
    [InlineData(FaultKind.Error, 2)]
    [InlineData(FaultKind.Truncate, 1)]
    public async Task Outage_KeepsEveryTokenAndRecordsTheError(FaultKind kind, int failures)
    {
        await _fixture.WaitForAllTokensAsync();
        var before = DateTimeOffset.UtcNow;
        _fixture.Simulator.Simulator.Faults.Add(new FaultRule { Kind = kind, Path = "virtualmachines" });
        _fixture.Simulator.Simulator.World.RemoveVm(_fixture.VmWithOwnAddress().Id);

        SyncStatus status = new();
        await Eventually.ThatAsync(async () => (status = await _fixture.StatusAsync()).LastErrorAt > before && status.ConsecutiveFailures >= failures,
            SyncClusterFixture.Patience, $"{failures} failed syncs in a row were never recorded");

        Assert.Contains("abiquo:", status.LastError, StringComparison.Ordinal);
        var wait = status.NextRunAt - (status.LastRunAt + status.LastDuration);
        Assert.True(wait >= SyncClusterFixture.Interval * Math.Pow(2, status.ConsecutiveFailures - 1) - TimeSpan.FromMilliseconds(100),
            $"after {status.ConsecutiveFailures} failures the next try comes after {wait}: no backoff");
        _fixture.Reset();
        var entries = await Task.WhenAll(_fixture.ExpectedTokens().Select(_fixture.TokenAsync));
        Assert.All(entries, Assert.NotNull);
        Assert.All(entries, e => Assert.True(e!.SetAt < before, "a token was rewritten during the outage"));
        Assert.Equal(0, (await _fixture.WaitForCleanSyncAsync()).ConsecutiveFailures);
    }

    [Fact]
    public async Task EmptyAnswerOnce_IsHeldAndEveryTokenKept()
    {
        var (before, status) = await SyncThroughEmptyAnswersAsync(1);

        Assert.True(status.LastErrorAt > before, "the held sync was not recorded");
        var entries = await Task.WhenAll(_fixture.ExpectedTokens().Select(_fixture.TokenAsync));
        Assert.All(entries, e => Assert.True(e is not null && e.SetAt < before, "a token was removed by a single empty answer"));
    }

    [Fact]
    public async Task EmptyAnswerTwice_IsApplied()
    {
        var (before, _) = await SyncThroughEmptyAnswersAsync(2);

        // Removed by the confirmed empty answer, then written again by the next full one.
        var entries = await Task.WhenAll(_fixture.ExpectedTokens().Select(_fixture.TokenAsync));
        Assert.All(entries, e => Assert.True(e is not null && e.SetAt > before, "a token survived a confirmed mass removal"));
    }

    [Fact]
    public async Task SyncEndpoints_ShowTheStatusAndSyncNow()
    {
        await _fixture.WaitForAllTokensAsync();
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Services.AddSingleton(_fixture.Grains);
        await using var app = builder.Build();
        app.MapSyncEndpoints();
        await app.StartAsync(TestContext.Current.CancellationToken);
        using var http = new HttpClient { BaseAddress = new Uri(app.Urls.First()) };

        using var posted = await http.PostAsync("/api/sync", null, TestContext.Current.CancellationToken);
        var status = await posted.Content.ReadFromJsonAsync<SyncStatus>(TestContext.Current.CancellationToken);
        var shown = await http.GetStringAsync("/api/sync", TestContext.Current.CancellationToken);

        Assert.Null(status!.LastError);
        Assert.Equal(_fixture.ExpectedTokens().Count, status.Tokens);
        Assert.Contains("\"lastSuccessAt\"", shown, StringComparison.Ordinal);
        // Where the sync spent its time, part by part, within its whole duration (the bench splits its sessions by them).
        var source = Assert.Single(status.Sources);
        Assert.True(source.LastLoad > TimeSpan.Zero && source.LastPlan >= TimeSpan.Zero && source.LastApply >= TimeSpan.Zero,
            $"load {source.LastLoad}, plan {source.LastPlan}, apply {source.LastApply}");
        Assert.True(source.LastLoad + source.LastPlan + source.LastApply <= status.LastDuration,
            $"the parts ({source.LastLoad} + {source.LastPlan} + {source.LastApply}) exceed the sync's {status.LastDuration}");
        Assert.Contains("\"lastApply\"", shown, StringComparison.Ordinal);
        Assert.DoesNotContain(SyncClusterFixture.Password, shown, StringComparison.Ordinal);
        await app.StopAsync(TestContext.Current.CancellationToken);
    }

    /// <summary>Lets <paramref name="count"/> syncs in a row read an empty enterprise list, then one full one.</summary>
    [Fact]
    public async Task ReminderTick_IsAnsweredWhileASyncRuns()
    {
        await _fixture.WaitForCleanSyncAsync();

        // The next sync's first request answers after 4 s (under the fixture's 5 s Abiquo timeout): a long sync.
        _fixture.Simulator.Simulator.Faults.Add(new FaultRule { Kind = FaultKind.Slow, DelayMs = 4000, Path = "enterprises?", Count = 1 });
        await Eventually.ThatAsync(() => Task.FromResult(_fixture.Simulator.Simulator.Faults.Rules().Count == 0),
            SyncClusterFixture.Patience, "no sync reached the slow answer");
        var runs = (await _fixture.StatusAsync()).Runs;

        // A reminder tick does nothing but bring the grain back; it used to wait for the sync and time out after 30 s
        // during a 1,000,000-VM first sync.
        var reminder = _fixture.Grains.GetGrain<ITokenSyncGrain>(TokenSync.Key).AsReference<IRemindable>();
        await reminder.ReceiveReminder(TokenSync.ReminderName, new TickStatus(DateTime.UtcNow, TokenSync.ReminderPeriod, DateTime.UtcNow));

        Assert.Equal(runs, (await _fixture.StatusAsync()).Runs);
        var after = await _fixture.WaitForCleanSyncAsync();
        Assert.True(after.Runs > runs, "the slow sync and the next one should still run to the end");
    }

    /// <summary>
    /// A sync over a second logs where its time went (event 4102): how long it loaded, planned and applied, how much of
    /// the apply was writing the index, and the GC's pauses. The slow answer makes the load take at least its delay.
    /// </summary>
    [Fact]
    public async Task ALongSync_LogsWhereItsTimeWent()
    {
        await _fixture.WaitForCleanSyncAsync();
        var before = _fixture.Logs.Records.Count;

        _fixture.Simulator.Simulator.Faults.Add(new FaultRule { Kind = FaultKind.Slow, DelayMs = 1500, Path = "enterprises?", Count = 1 });

        LogCapture.LogRecord? timing = null;
        await Eventually.ThatAsync(() =>
        {
            timing = _fixture.Logs.Records.Skip(before)
                .FirstOrDefault(r => r.EventId == 4102 && r.Values.GetValueOrDefault("LoadSeconds") is double load && load >= 1.4);
            return Task.FromResult(timing is not null);
        }, SyncClusterFixture.Patience, "no sync logged its timings (event 4102) with a load of at least the slow answer's 1.5 s");

        Assert.Equal("abiquo", timing!.Values["Source"]);
        var (plan, apply, index, paused) = ((double)timing.Values["PlanSeconds"]!, (double)timing.Values["ApplySeconds"]!,
            (double)timing.Values["IndexSeconds"]!, (double)timing.Values["GcPauseSeconds"]!);
        Assert.True(plan >= 0 && paused >= 0, timing.Message);
        // Every sync writes the source's index after its tokens, and that takes some time within the apply.
        Assert.True(index > 0 && index <= apply, timing.Message);
        Assert.Contains("s of it writing the index", timing.Message, StringComparison.Ordinal);
    }

    private async Task<(DateTimeOffset Before, SyncStatus After)> SyncThroughEmptyAnswersAsync(int count)
    {
        await _fixture.WaitForAllTokensAsync();
        await _fixture.WaitForCleanSyncAsync();
        var before = DateTimeOffset.UtcNow;

        _fixture.Simulator.Simulator.Faults.Add(new FaultRule { Kind = FaultKind.Empty, Path = "enterprises?", Count = count });
        await Eventually.ThatAsync(() => Task.FromResult(_fixture.Simulator.Simulator.Faults.Rules().Count == 0),
            SyncClusterFixture.Patience, $"the sync never read the empty answer {count} time(s)");
        return (before, await _fixture.WaitForCleanSyncAsync());
    }
}
