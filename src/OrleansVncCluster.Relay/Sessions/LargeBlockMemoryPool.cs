using System.Buffers;
using System.Collections.Concurrent;
using Microsoft.AspNetCore.Connections;

namespace OrleansVncCluster.Relay.Sessions;

/// <summary>
/// Kestrel's buffer pool, with 64 KiB blocks instead of its default 4 KiB. Kestrel reads into one block at a time.
/// With 4 KiB blocks it reads a 64 KiB browser frame with 16 recv() calls, each after a 1-byte peek: 32 system
/// calls per frame where socat makes 2 (strace, docs/benchmarks.md). The default block size cannot be configured;
/// Kestrel takes its pool factory from dependency injection. Idle connections hold no block: Kestrel waits for data
/// with a zero-byte read before renting one.
/// </summary>
internal sealed class LargeBlockMemoryPoolFactory : IMemoryPoolFactory<byte>
{
    public MemoryPool<byte> Create(MemoryPoolOptions? options = null) => new LargeBlockMemoryPool();
}

internal sealed class LargeBlockMemoryPool : MemoryPool<byte>
{
    private const int BlockSize = RelayOptions.BufferBytes;

    /// <summary>Blocks kept for reuse at most (16 MiB); beyond a burst's worth, returned blocks go to the GC.</summary>
    private const int MaxRetained = 256;

    private readonly ConcurrentQueue<Block> _free = new();
    private int _retained;

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
        _free.Clear();
    }

    private void Return(Block block)
    {
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
