using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using OrleansVncCluster.Relay.Diagnostics;
using OrleansVncCluster.Relay.Recording;
using OrleansVncCluster.Tests.Sessions;
using OrleansVncCluster.Tests.Tickets;

namespace OrleansVncCluster.Tests.Recording;

/// <summary>
/// Recording:MaxDiskBytes and Recording:Retention on one node's directory (issue 14): the oldest finished recordings go
/// first, open ones never, the index forgets what was deleted, and a start the budget cannot make room for is refused.
/// </summary>
public sealed class RecorderDiskBudgetTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("recorder-budget-").FullName;
    private readonly FakeTimeProvider _time = new(DateTimeOffset.UtcNow);
    private readonly TestOptions<RecordingOptions> _options;
    private readonly MemoryRecordingIndex _index;
    private readonly Recorder _recorder;

    public RecorderDiskBudgetTests()
    {
        _options = new TestOptions<RecordingOptions>(new RecordingOptions
        {
            Mode = "on", Directory = _directory, KeyframeInterval = TimeSpan.Zero, Retention = TimeSpan.FromDays(30), MaxDiskBytes = 2500,
        });
        _index = new MemoryRecordingIndex(_options, _time);
        var metrics = new RelayMetrics(new ServiceCollection().AddMetrics().BuildServiceProvider().GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>());
        _recorder = new Recorder(_options, _index, new FakeSilo(), new RecordingMetrics(metrics), _time, NullLogger<Recorder>.Instance);
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public async Task OverTheBudget_TheOldestFinishedRecordingsGoFirst_AndTheIndexForgetsThem()
    {
        var ids = new[] { await FinishedAsync(1, 1000), await FinishedAsync(2, 1000), await FinishedAsync(3, 1000) };

        var left = await _recorder.SweepAsync(CancellationToken.None);

        Assert.Equal(2000, left);
        Assert.Equal([false, true, true], ids.Select(id => File.Exists(FileOf(id))));
        Assert.Null(await _index.GetAsync(ids[0], CancellationToken.None));
        Assert.NotNull(await _index.GetAsync(ids[1], CancellationToken.None));
        Assert.Equal(2000, _recorder.DiskBytes());
    }

    [Fact]
    public async Task PastTheRetention_ARecordingGoes_ThoughTheBudgetHasRoom()
    {
        _options.CurrentValue.MaxDiskBytes = 0;
        var old = await FinishedAsync(1, 100, writtenDaysAgo: 31);
        var recent = await FinishedAsync(2, 100, writtenDaysAgo: 29);

        await _recorder.SweepAsync(CancellationToken.None);

        Assert.False(File.Exists(FileOf(old)));
        Assert.True(File.Exists(FileOf(recent)));
    }

    [Fact]
    public async Task AStartThatFindsTheBudgetFull_MakesRoomFromFinishedRecordings_NeverFromOpenOnes()
    {
        var finished = await FinishedAsync(1, 2400);
        await _recorder.SweepAsync(CancellationToken.None);
        var first = _recorder.Start(Subject("first"));
        Assert.True(first.Started, first.Reason);
        Assert.True(File.Exists(FileOf(finished)), "under the budget, a start deletes nothing");
        first.Recorder!.ServerInit(new byte[200]);
        _recorder.FlushAll();

        // The count says 2400 finished + the open one's bytes: over 2500, so this start sweeps and the finished one goes.
        var second = _recorder.Start(Subject("second"));

        Assert.True(second.Started, second.Reason);
        Assert.False(File.Exists(FileOf(finished)));
        Assert.True(File.Exists(first.Recorder.Path), "an open recording is never deleted");
        await Sync.Eventually.ThatAsync(async () => await _index.GetAsync(finished, CancellationToken.None) is null, TimeSpan.FromSeconds(5), "the start's deletion reaches the index");
        first.Recorder.Dispose();
        second.Recorder!.Dispose();
    }

    [Fact]
    public async Task AStartTheBudgetCannotMakeRoomFor_IsRefusedWithTheSettingToChange()
    {
        _options.CurrentValue.MaxDiskBytes = 100;
        await _recorder.SweepAsync(CancellationToken.None);
        var open = _recorder.Start(Subject("open"));
        open.Recorder!.ServerInit(new byte[200]);
        _recorder.FlushAll();

        var refused = _recorder.Start(Subject("refused"));

        Assert.False(refused.Started);
        Assert.Equal("disk_budget", refused.Label);
        Assert.Contains("Recording:MaxDiskBytes", refused.Reason, StringComparison.Ordinal);
        Assert.True(File.Exists(open.Recorder.Path));
        open.Recorder.Dispose();
    }

    private static RecordingSubject Subject(string session) => new() { SessionId = session, Client = "192.0.2.1" };

    private string FileOf(string id) => Path.Combine(_directory, id + RecordingFormat.FileExtension);

    /// <summary>A finished recording left by an earlier run: a file of <paramref name="bytes"/> and its index entry.
    /// Ids sort by start time, as the recorder's UUIDv7 ids do.</summary>
    private async Task<string> FinishedAsync(int order, int bytes, int writtenDaysAgo = 1)
    {
        var id = order.ToString("x32", System.Globalization.CultureInfo.InvariantCulture);
        await File.WriteAllBytesAsync(FileOf(id), new byte[bytes]);
        File.SetLastWriteTimeUtc(FileOf(id), _time.GetUtcNow().UtcDateTime.AddDays(-writtenDaysAgo));
        await _index.PutAsync(new RecordingEntry { Id = id, SessionId = "s" + order, Vm = new Relay.Audit.AuditVm(), Client = "192.0.2.1", Node = "fake-silo", Start = _time.GetUtcNow().AddDays(-writtenDaysAgo), File = id + RecordingFormat.FileExtension, Bytes = bytes, Complete = true }, CancellationToken.None);
        return id;
    }
}
