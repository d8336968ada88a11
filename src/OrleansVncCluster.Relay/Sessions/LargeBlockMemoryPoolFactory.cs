using System.Buffers;
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
