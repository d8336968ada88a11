namespace OrleansVncCluster.Relay.Abiquo;

/// <summary>
/// A read-only stream that holds one of the <c>slots</c> while its reader works on what it read, and gives the slot back
/// while it waits for more. A page parsed as it streams in then takes a CPU slot only for the parsing: a slow body holds
/// none, and the pages fetched beside it are parsed in the meantime.
/// </summary>
/// <remarks>The slot taken by the last read is given back when the stream is disposed (synchronously or not: the
/// base <see cref="Stream.DisposeAsync"/> calls <see cref="Dispose(bool)"/>).</remarks>
internal sealed class CpuSlotStream(Stream inner, SemaphoreSlim slots) : Stream
{
    private bool _held;

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var reading = inner.ReadAsync(buffer, cancellationToken);
        if (!reading.IsCompleted)
        {
            // Only a read that waits gives the slot back. Data already at hand is parsed at once: giving the slot back
            // there would send the parse through the thread pool's queue, behind the sessions, for every 16 KiB.
            Release();
        }

        var read = await reading;
        if (!_held)
        {
            await slots.WaitAsync(cancellationToken);
            _held = true;
        }

        return read;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    /// <summary>Not supported: a blocking read cannot give its slot back while it waits (the parser reads asynchronously).</summary>
    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            Release();
            inner.Dispose();
        }

        base.Dispose(disposing);
    }

    private void Release()
    {
        if (_held)
        {
            _held = false;
            slots.Release();
        }
    }
}
