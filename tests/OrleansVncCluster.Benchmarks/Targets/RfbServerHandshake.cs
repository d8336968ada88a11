using System.Buffers.Binary;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;

namespace OrleansVncCluster.Benchmarks.Targets;

/// <summary>
/// The server side of an RFB 3.8 handshake with VNC authentication only (security type 2), as a password-protected
/// Xvnc does it: version, security types [2], challenge, response checked against the known password, SecurityResult,
/// ClientInit, ServerInit (RFC 6143 sections 7.1-7.3). What follows is the target's own behaviour.
/// </summary>
internal static class RfbServerHandshake
{
    public static readonly byte[] Version38 = Encoding.ASCII.GetBytes("RFB 003.008\n");

    /// <summary>1024x768, 32 bits per pixel true colour, named "vnc-bench".</summary>
    public static readonly byte[] ServerInit = CreateServerInit();

    private const byte SecurityVncAuth = 2;

    /// <summary>True when the client proved it knows <paramref name="password"/> and the handshake ended with ServerInit.</summary>
    public static async Task<bool> RunAsync(Socket connection, string password, CancellationToken cancellationToken)
    {
        var buffer = new byte[32];
        await SendAsync(connection, Version38, cancellationToken);
        await ReceiveExactlyAsync(connection, buffer.AsMemory(0, 12), cancellationToken);
        await SendAsync(connection, new byte[] { 1, SecurityVncAuth }, cancellationToken);
        await ReceiveExactlyAsync(connection, buffer.AsMemory(0, 1), cancellationToken);
        if (buffer[0] != SecurityVncAuth)
        {
            return false;
        }

        var challenge = RandomNumberGenerator.GetBytes(VncAuthentication.ChallengeLength);
        await SendAsync(connection, challenge, cancellationToken);
        await ReceiveExactlyAsync(connection, buffer.AsMemory(0, VncAuthentication.ChallengeLength), cancellationToken);
        var ok = buffer.AsSpan(0, VncAuthentication.ChallengeLength).SequenceEqual(VncAuthentication.Response(password, challenge));
        if (!ok)
        {
            var reason = Encoding.ASCII.GetBytes("Authentication failure");
            var failed = new byte[8 + reason.Length];
            BinaryPrimitives.WriteUInt32BigEndian(failed, 1);
            BinaryPrimitives.WriteUInt32BigEndian(failed.AsSpan(4), (uint)reason.Length);
            reason.CopyTo(failed, 8);
            await SendAsync(connection, failed, cancellationToken);
            return false;
        }

        await SendAsync(connection, new byte[4], cancellationToken);
        await ReceiveExactlyAsync(connection, buffer.AsMemory(0, 1), cancellationToken);
        await SendAsync(connection, ServerInit, cancellationToken);
        return true;
    }

    private static async Task SendAsync(Socket connection, ReadOnlyMemory<byte> bytes, CancellationToken cancellationToken)
    {
        while (!bytes.IsEmpty)
        {
            bytes = bytes[await connection.SendAsync(bytes, SocketFlags.None, cancellationToken)..];
        }
    }

    private static async Task ReceiveExactlyAsync(Socket connection, Memory<byte> buffer, CancellationToken cancellationToken)
    {
        while (!buffer.IsEmpty)
        {
            var read = await connection.ReceiveAsync(buffer, SocketFlags.None, cancellationToken);
            if (read == 0)
            {
                throw new SocketException((int)SocketError.ConnectionReset);
            }

            buffer = buffer[read..];
        }
    }

    private static byte[] CreateServerInit()
    {
        var name = Encoding.ASCII.GetBytes("vnc-bench");
        var init = new byte[24 + name.Length];
        BinaryPrimitives.WriteUInt16BigEndian(init, 1024);
        BinaryPrimitives.WriteUInt16BigEndian(init.AsSpan(2), 768);
        // Pixel format: 32 bpp, depth 24, little endian, true colour, max 255/255/255, shifts 16/8/0.
        init[4] = 32;
        init[5] = 24;
        init[6] = 0;
        init[7] = 1;
        BinaryPrimitives.WriteUInt16BigEndian(init.AsSpan(8), 255);
        BinaryPrimitives.WriteUInt16BigEndian(init.AsSpan(10), 255);
        BinaryPrimitives.WriteUInt16BigEndian(init.AsSpan(12), 255);
        init[14] = 16;
        init[15] = 8;
        init[16] = 0;
        BinaryPrimitives.WriteUInt32BigEndian(init.AsSpan(20), (uint)name.Length);
        name.CopyTo(init, 24);
        return init;
    }
}
