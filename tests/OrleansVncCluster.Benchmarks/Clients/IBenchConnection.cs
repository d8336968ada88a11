namespace OrleansVncCluster.Benchmarks.Clients;

/// <summary>One client session through a peer: WebSocket messages or raw TCP bytes, the workloads do not care which.</summary>
internal interface IBenchConnection : IDisposable
{
    /// <summary>Sends one 64 KiB frame (one WebSocket binary message, or 64 KiB of TCP stream).</summary>
    ValueTask SendAsync(ReadOnlyMemory<byte> frame, CancellationToken cancellationToken);

    /// <summary>Receives what arrived; 0 means the far end closed.</summary>
    ValueTask<int> ReceiveAsync(Memory<byte> buffer, CancellationToken cancellationToken);

    /// <summary>Ends the session politely (WebSocket close handshake, TCP FIN), bounded in time.</summary>
    Task CloseAsync();

    /// <summary>Drops the connection at once (RST), for tearing down thousands of sessions.</summary>
    void Abort();
}

/// <summary>How a workload opens sessions through one peer.</summary>
internal interface IBenchEndpoint
{
    /// <summary>Opens a session to the logical target or console token <paramref name="token"/>.</summary>
    Task<IBenchConnection> ConnectAsync(string token, ConnectionProfile profile, CancellationToken cancellationToken);

    /// <summary>True when sessions are WebSocket sessions looked up by token.</summary>
    bool UsesTokens { get; }
}

/// <summary>Buffers matching the workload: big for throughput, small for thousands of idle sessions.</summary>
internal enum ConnectionProfile
{
    Bulk,
    Light,
}
