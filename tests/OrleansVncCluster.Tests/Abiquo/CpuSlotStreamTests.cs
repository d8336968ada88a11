using System.IO.Pipelines;
using OrleansVncCluster.Relay.Abiquo;

namespace OrleansVncCluster.Tests.Abiquo;

/// <summary>
/// The stream an inventory page is parsed from: it holds a CPU slot while its reader parses and gives it back while the
/// body is still on its way, so a slow page never keeps the pages beside it from being parsed.
/// </summary>
public sealed class CpuSlotStreamTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact]
    public async Task AReadTakesASlot_AndDisposingGivesItBack()
    {
        var (pipe, slots) = (new Pipe(), new SemaphoreSlim(1, 1));
        await pipe.Writer.WriteAsync("{}"u8.ToArray(), Cancel);
        var stream = new CpuSlotStream(pipe.Reader.AsStream(), slots);

        Assert.Equal(2, await stream.ReadAsync(new byte[16], Cancel));
        Assert.Equal(0, slots.CurrentCount);

        await stream.DisposeAsync();
        Assert.Equal(1, slots.CurrentCount);
    }

    [Fact]
    public async Task AReadThatWaitsForTheBody_GivesTheSlotBackUntilDataComes()
    {
        var (pipe, slots, stream) = await HalfReadPageAsync();
        await using var _ = stream;

        var waiting = stream.ReadAsync(new byte[16], Cancel).AsTask();

        // Another page takes the slot while this one waits for its body.
        Assert.True(await slots.WaitAsync(Patience, Cancel), "the slot stayed with a read that waits for data");
        await pipe.Writer.WriteAsync("2]"u8.ToArray(), Cancel);
        await Task.Delay(100, Cancel);
        Assert.False(waiting.IsCompleted, "the read went on parsing while another held the only slot");

        slots.Release();
        Assert.Equal(2, await waiting.WaitAsync(Patience, Cancel));
        Assert.Equal(0, slots.CurrentCount);
    }

    [Fact]
    public async Task DataAlreadyAtHand_IsReadWithoutGivingTheSlotUp()
    {
        var (pipe, slots, stream) = await HalfReadPageAsync();
        await using var _ = stream;
        var other = slots.WaitAsync(Patience, Cancel);

        await pipe.Writer.WriteAsync("2]"u8.ToArray(), Cancel);
        Assert.Equal(2, await stream.ReadAsync(new byte[16], Cancel).AsTask().WaitAsync(Patience, Cancel));

        // The page that queued for the slot gets it only once this one is done.
        Assert.False(other.IsCompleted, "the slot went to another page between two reads of data at hand");
        await stream.DisposeAsync();
        Assert.True(await other);
    }

    [Fact]
    public async Task ParsingAPage_ThroughTheStream_GivesTheSameResultAndFreesTheSlot()
    {
        var slots = new SemaphoreSlim(1, 1);
        var json = "{\"collection\":[" + string.Join(',', Enumerable.Range(1, 5_000).Select(i => $"{{\"id\":{i}}}")) + "]}";

        int[]? ids;
        await using (var stream = new CpuSlotStream(new MemoryStream(System.Text.Encoding.UTF8.GetBytes(json)), slots))
        {
            ids = (await System.Text.Json.JsonSerializer.DeserializeAsync<Page>(stream, System.Text.Json.JsonSerializerOptions.Web, Cancel))?.Collection?.Select(i => i.Id).ToArray();
        }

        Assert.Equal(Enumerable.Range(1, 5_000), ids!);
        Assert.Equal(1, slots.CurrentCount);
    }

    /// <summary>A page whose first bytes were read: its stream holds the only slot, the rest of the body is not there yet.</summary>
    private static async Task<(Pipe Pipe, SemaphoreSlim Slots, CpuSlotStream Stream)> HalfReadPageAsync()
    {
        var (pipe, slots) = (new Pipe(), new SemaphoreSlim(1, 1));
        await pipe.Writer.WriteAsync("[1,"u8.ToArray(), Cancel);
        var stream = new CpuSlotStream(pipe.Reader.AsStream(), slots);
        Assert.Equal(3, await stream.ReadAsync(new byte[16], Cancel));
        return (pipe, slots, stream);
    }

    private sealed record Page(Item[]? Collection);

    private sealed record Item(int Id);
}
