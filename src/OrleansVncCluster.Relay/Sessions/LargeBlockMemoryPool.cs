using System.Buffers;
using System.Collections.Concurrent;

namespace OrleansVncCluster.Relay.Sessions;

/// <summary>
/// The 64 KiB blocks Kestrel reads browser frames into (<see cref="LargeBlockMemoryPoolFactory"/>), pinned, and kept
/// for reuse up to <see cref="MaxRetained"/>. A lock-free queue: renting the block returned last (a stack under a
/// lock) cut the upload's CPU per GiB but lengthened set-ups while a sync kept both cores busy (docs/benchmarks.md).
/// </summary>
internal sealed class LargeBlockMemoryPool : MemoryPool<byte>
{
    private const int BlockSize = RelayOptions.BufferBytes;

    /// <summary>Blocks kept for reuse at most (16 MiB); beyond a burst's worth, returned blocks go to the GC.</summary>
    internal const int MaxRetained = 256;

    private readonly ConcurrentQueue<Block> _free = new();
    private int _retained;
    private bool _disposed;

    public override int MaxBufferSize => BlockSize;

    public override IMemoryOwner<byte> Rent(int minBufferSize = -1)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(minBufferSize, BlockSize);
        if (_free.TryDequeue(out var block))
        {
            Interlocked.Decrement(ref _retained);
            return block;
        }

        return new Block(this);
    }

    protected override void Dispose(bool disposing)
    {
        // Kestrel disposes its pool when it stops; connections still closing return their blocks after that.
        Volatile.Write(ref _disposed, true);
        while (_free.TryDequeue(out _))
        {
            Interlocked.Decrement(ref _retained);
        }
    }

    private void Return(Block block)
    {
        if (Volatile.Read(ref _disposed))
        {
            return;
        }

        if (Interlocked.Increment(ref _retained) <= MaxRetained)
        {
            _free.Enqueue(block);
        }
        else
        {
            Interlocked.Decrement(ref _retained);
        }
    }

    private sealed class Block(LargeBlockMemoryPool pool) : IMemoryOwner<byte>
    {
        // Pinned (on the pinned object heap): the socket transport does I/O straight into these blocks.
        private readonly byte[] _array = GC.AllocateUninitializedArray<byte>(BlockSize, pinned: true);

        public Memory<byte> Memory => _array;

        public void Dispose() => pool.Return(this);
    }
}
