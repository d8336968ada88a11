using System.Buffers.Binary;
using OrleansVncCluster.Benchmarks.Targets;

namespace OrleansVncCluster.Benchmarks.Clients;

/// <summary>
/// Sessions as noVNC opens them to a VNC server, through a WebSocket peer: the RFB 3.8 handshake runs inside
/// <see cref="ConnectAsync"/> (version, security, VNC authentication when offered, ClientInit, ServerInit), so a workload
/// gets a connection that is past ServerInit. Logical targets map to tokens <c>PREFIX + name</c> ("bench-echo" with
/// prefix "rfb-login-" is token "rfb-login-echo"). Strict about who logs in: a session meant to be logged in by the relay
/// fails unless it is offered None, one meant to pass through fails unless it is offered VNC authentication, so a
/// password file the node did not load cannot pass for a login that costs nothing.
/// </summary>
internal sealed class RfbEndpoint(IBenchEndpoint inner, string tokenPrefix, string password, bool relayLogsIn) : IBenchEndpoint
{
    private const byte SecurityNone = 1;
    private const byte SecurityVncAuth = 2;

    public bool UsesTokens => true;

    public static string TokenFor(string prefix, string logicalTarget) =>
        prefix + (logicalTarget.StartsWith("bench-", StringComparison.Ordinal) ? logicalTarget["bench-".Length..] : logicalTarget);

    public async Task<IBenchConnection> ConnectAsync(string token, ConnectionProfile profile, CancellationToken cancellationToken)
    {
        var connection = await inner.ConnectAsync(TokenFor(tokenPrefix, token), profile, cancellationToken);
        try
        {
            var reader = new HandshakeReader(connection);
            await reader.ReadExactlyAsync(12, cancellationToken);
            await connection.SendAsync(RfbServerHandshake.Version38, cancellationToken);
            var count = (await reader.ReadExactlyAsync(1, cancellationToken))[0];
            if (count == 0)
            {
                throw new InvalidOperationException("the VNC server offered no security type");
            }

            var types = await reader.ReadExactlyAsync(count, cancellationToken);
            if (relayLogsIn && !types.Contains(SecurityNone))
            {
                throw new InvalidOperationException($"offered security types {string.Join(",", types)}, not None: the relay did not log in (password file not loaded?)");
            }

            if (!relayLogsIn && types.Contains(SecurityNone))
            {
                throw new InvalidOperationException("offered None: the session was meant to pass through to a password-protected server");
            }

            if (types.Contains(SecurityNone))
            {
                await connection.SendAsync(new byte[] { SecurityNone }, cancellationToken);
            }
            else if (types.Contains(SecurityVncAuth))
            {
                await connection.SendAsync(new byte[] { SecurityVncAuth }, cancellationToken);
                var challenge = await reader.ReadExactlyAsync(VncAuthentication.ChallengeLength, cancellationToken);
                await connection.SendAsync(VncAuthentication.Response(password, challenge), cancellationToken);
            }
            else
            {
                throw new InvalidOperationException($"the VNC server offered security types {string.Join(",", types)}, neither None nor VNC authentication");
            }

            if (BinaryPrimitives.ReadUInt32BigEndian(await reader.ReadExactlyAsync(4, cancellationToken)) != 0)
            {
                throw new InvalidOperationException("the VNC server refused the login (SecurityResult failed)");
            }

            await connection.SendAsync(new byte[] { 1 }, cancellationToken);
            var header = await reader.ReadExactlyAsync(24, cancellationToken);
            await reader.ReadExactlyAsync((int)BinaryPrimitives.ReadUInt32BigEndian(header.AsSpan(20)), cancellationToken);
            return reader.Remainder();
        }
        catch
        {
            connection.Abort();
            throw;
        }
    }

    /// <summary>Reads the handshake from WebSocket messages, which need not line up with RFB's fields; keeps what came
    /// after ServerInit for the workload.</summary>
    private sealed class HandshakeReader(IBenchConnection connection)
    {
        private readonly byte[] _buffer = new byte[64 * 1024];
        private int _start;
        private int _end;

        public async Task<byte[]> ReadExactlyAsync(int count, CancellationToken cancellationToken)
        {
            while (_end - _start < count)
            {
                if (_start > 0)
                {
                    _buffer.AsSpan(_start, _end - _start).CopyTo(_buffer);
                    _end -= _start;
                    _start = 0;
                }

                var read = await connection.ReceiveAsync(_buffer.AsMemory(_end), cancellationToken);
                if (read == 0)
                {
                    throw new InvalidOperationException("the session closed during the RFB handshake");
                }

                _end += read;
            }

            var bytes = _buffer.AsSpan(_start, count).ToArray();
            _start += count;
            return bytes;
        }

        public IBenchConnection Remainder() =>
            _end > _start ? new PrefixedConnection(connection, _buffer.AsSpan(_start, _end - _start).ToArray()) : connection;
    }

    /// <summary>A connection that first hands out the bytes that arrived with ServerInit.</summary>
    private sealed class PrefixedConnection(IBenchConnection inner, byte[] prefix) : IBenchConnection
    {
        private int _offset;

        public ValueTask SendAsync(ReadOnlyMemory<byte> frame, CancellationToken cancellationToken) => inner.SendAsync(frame, cancellationToken);

        public ValueTask<int> ReceiveAsync(Memory<byte> buffer, CancellationToken cancellationToken)
        {
            if (_offset < prefix.Length)
            {
                var count = Math.Min(buffer.Length, prefix.Length - _offset);
                prefix.AsMemory(_offset, count).CopyTo(buffer);
                _offset += count;
                return ValueTask.FromResult(count);
            }

            return inner.ReceiveAsync(buffer, cancellationToken);
        }

        public Task CloseAsync() => inner.CloseAsync();

        public void Abort() => inner.Abort();

        public void Dispose() => inner.Dispose();
    }
}
