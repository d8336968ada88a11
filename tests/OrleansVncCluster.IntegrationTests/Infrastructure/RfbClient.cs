using System.Security.Cryptography;
using System.Text;

namespace OrleansVncCluster.IntegrationTests.Infrastructure;

/// <summary>Just enough of an RFB 3.8 client (RFC 6143) to prove a real VNC server is reached through the relay.</summary>
public sealed class RfbClient(ConsoleClient connection)
{
    private readonly List<byte> _pending = [];

    public ushort Width { get; private set; }
    public ushort Height { get; private set; }
    public string DesktopName { get; private set; } = "";

    /// <summary>Version exchange, VNC authentication (security type 2), ClientInit and ServerInit.</summary>
    public async Task HandshakeAsync(string? password)
    {
        var version = Encoding.ASCII.GetString(await ReadAsync(12));
        if (!version.StartsWith("RFB 003.", StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"not an RFB server: '{version}'");
        }

        await connection.SendAsync(Encoding.ASCII.GetBytes("RFB 003.008\n"));
        var typeCount = (await ReadAsync(1))[0];
        if (typeCount == 0)
        {
            throw new InvalidOperationException("server refused the connection");
        }

        var types = await ReadAsync(typeCount);
        if (password is not null)
        {
            if (!types.Contains((byte)2))
            {
                throw new InvalidOperationException("server does not offer VNC authentication");
            }

            await connection.SendAsync(new byte[] { 2 });
            var challenge = await ReadAsync(16);
            await connection.SendAsync(VncAuthResponse(password, challenge));
        }
        else
        {
            await connection.SendAsync(new byte[] { 1 });
        }

        var securityResult = await ReadAsync(4);
        if (securityResult.Any(b => b != 0))
        {
            throw new UnauthorizedAccessException("VNC authentication failed");
        }

        await connection.SendAsync(new byte[] { 1 }); // ClientInit: shared
        var init = await ReadAsync(24);
        Width = (ushort)((init[0] << 8) | init[1]);
        Height = (ushort)((init[2] << 8) | init[3]);
        var nameLength = (init[20] << 24) | (init[21] << 16) | (init[22] << 8) | init[23];
        DesktopName = Encoding.UTF8.GetString(await ReadAsync(nameLength));
    }

    /// <summary>Asks for a full framebuffer update and returns the message type byte and rectangle count of the reply.</summary>
    public async Task<(byte MessageType, int Rectangles)> RequestUpdateAsync()
    {
        var request = new byte[10];
        request[0] = 3; // FramebufferUpdateRequest, incremental = 0
        request[6] = (byte)(Width >> 8);
        request[7] = (byte)Width;
        request[8] = (byte)(Height >> 8);
        request[9] = (byte)Height;
        await connection.SendAsync(request);
        var header = await ReadAsync(4);
        return (header[0], (header[2] << 8) | header[3]);
    }

    private async Task<byte[]> ReadAsync(int count)
    {
        while (_pending.Count < count)
        {
            var buffer = new byte[64 * 1024];
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(15));
            var result = await connection.Socket.ReceiveAsync(buffer, cts.Token);
            if (result.MessageType == System.Net.WebSockets.WebSocketMessageType.Close)
            {
                throw new InvalidOperationException($"relay closed: {connection.Socket.CloseStatus} {connection.Socket.CloseStatusDescription}");
            }

            _pending.AddRange(buffer.AsSpan(0, result.Count));
        }

        var data = _pending.GetRange(0, count).ToArray();
        _pending.RemoveRange(0, count);
        return data;
    }

    /// <summary>The VNC auth response: DES-ECB of the challenge, keyed by the password with each byte's bits reversed.</summary>
    public static byte[] VncAuthResponse(string password, byte[] challenge)
    {
        var key = new byte[8];
        var bytes = Encoding.ASCII.GetBytes(password);
        for (var i = 0; i < 8 && i < bytes.Length; i++)
        {
            var b = bytes[i];
            byte reversed = 0;
            for (var bit = 0; bit < 8; bit++)
            {
                reversed |= (byte)(((b >> bit) & 1) << (7 - bit));
            }

            key[i] = reversed;
        }

#pragma warning disable CA5351 // VNC authentication is defined with DES (RFC 6143 section 7.2.2); this is a test client.
        using var des = DES.Create();
#pragma warning restore CA5351
        des.Key = key;
        return des.EncryptEcb(challenge, PaddingMode.None);
    }
}
