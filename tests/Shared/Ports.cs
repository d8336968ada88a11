using System.Net;
using System.Net.Sockets;

namespace OrleansVncCluster.Testing;

/// <summary>
/// Ports for the processes a test or the bench starts, each handed out once per run. A port the kernel picked and released
/// (bind to 0) could be picked again, by another test class running beside this one or by any process's outgoing
/// connection, before the process it was meant for bound it. These come from below the kernel's ephemeral range
/// (32768-60999 on Debian), which it never hands out by itself, and are checked free on every IPv4 address when handed out.
/// </summary>
public static class Ports
{
    private const int First = 20000;
    private const int Last = 32000;
    private static readonly Lock Gate = new();

    // Another test run on the machine (a second checkout) starts elsewhere in the range.
    private static int _next = First + Random.Shared.Next(0, Last - First);

    /// <summary>A TCP port nobody listens on, never handed out before in this run.</summary>
    public static int Free()
    {
        lock (Gate)
        {
            for (var tried = 0; tried <= Last - First; tried++)
            {
                var port = _next;
                _next = _next >= Last ? First : _next + 1;
                if (IsFree(port))
                {
                    return port;
                }
            }
        }

        throw new InvalidOperationException($"no free TCP port between {First} and {Last}");
    }

    private static bool IsFree(int port)
    {
        try
        {
            using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            socket.Bind(new IPEndPoint(IPAddress.Any, port));
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
