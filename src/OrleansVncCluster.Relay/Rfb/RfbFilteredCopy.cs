using System.Buffers;

namespace OrleansVncCluster.Relay.Rfb;

/// <summary>
/// The browser-to-server copy loop of an RFB-aware session: reads what the browser sends, filters it with an
/// <see cref="RfbClientMessageFilter"/> in the same buffer, and writes what is left to the VNC server. The
/// server-to-browser direction needs no such loop: it stays an opaque copy.
/// </summary>
public static class RfbFilteredCopy
{
    /// <summary>Bytes read from the browser at a time; browser-to-server traffic is input events and small requests.</summary>
    public const int ChunkSize = 16 * 1024;

    /// <summary>Copies until the browser ends its stream (null) or breaks the protocol (the filter's reason; the messages
    /// before the bad one are still written). Transport failures and cancellation propagate as exceptions, as from any
    /// stream copy.</summary>
    public static async Task<string?> CopyAsync(Stream browser, Stream server, RfbClientMessageFilter filter, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(browser);
        ArgumentNullException.ThrowIfNull(server);
        ArgumentNullException.ThrowIfNull(filter);
        while (true)
        {
            // A zero-byte read waits for data without holding a buffer, so thousands of quiet sessions hold none.
            await browser.ReadAsync(Memory<byte>.Empty, cancellationToken).ConfigureAwait(false);
            var buffer = ArrayPool<byte>.Shared.Rent(RfbClientMessageFilter.Headroom + ChunkSize);
            try
            {
                var read = await browser.ReadAsync(buffer.AsMemory(RfbClientMessageFilter.Headroom, ChunkSize), cancellationToken).ConfigureAwait(false);
                if (read == 0)
                {
                    return null;
                }

                var result = filter.Filter(buffer, read);
                if (result.Count > 0)
                {
                    await server.WriteAsync(buffer.AsMemory(result.Offset, result.Count), cancellationToken).ConfigureAwait(false);
                    await server.FlushAsync(cancellationToken).ConfigureAwait(false);
                }

                if (result.Failed)
                {
                    return result.Error;
                }
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }
    }
}
