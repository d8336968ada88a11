using System.Buffers;

namespace OrleansVncCluster.Relay.Sessions;

/// <summary>
/// The 64 KiB blocks Kestrel reads browser frames into (<see cref="LargeBlockMemoryPoolFactory"/>), pinned, and kept
/// for reuse up to <see cref="MaxRetained"/>. The block rented next is the one returned last: Kestrel returns a block
/// as soon as the session has copied the frame out of it, so that block is still in the CPU's cache when the next
/// frame is read into it. A queue would cycle through every retained block, each gone cold by its turn: the upload on
/// one connection cost 11-20 % more CPU per GiB that way (docs/benchmarks.md).
/// </summary>
internal sealed class LargeBlockMemoryPool : MemoryPool<byte>
{
    private const int BlockSize = RelayOptions.BufferBytes;

    /// <summary>Blocks kept for reuse at most (16 MiB); beyond a burst's worth, returned blocks go to the GC.</summary>
    internal const int MaxRetained = 256;

    // A stack: last returned, first rented.
    private readonly Block[] _free = new Block[MaxRetained];
    private readonly Lock _lock = new();
    private int _count;

    public override int MaxBufferSize => BlockSize;

    public override IMemoryOwner<byte> Rent(int minBufferSize = -1)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(minBufferSize, BlockSize);
        lock (_lock)
        {
            if (_count > 0)
            {
                var block = _free[--_count];
                _free[_count] = null!;
                return block;
            }
        }

        return new Block(this);
    }

    protected override void Dispose(bool disposing)
    {
        lock (_lock)
        {
            Array.Clear(_free);
            _count = 0;
        }
    }

    private void Return(Block block)
    {
        lock (_lock)
        {
            if (_count < MaxRetained)
            {
                _free[_count++] = block;
            }
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
