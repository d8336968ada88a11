using System.Collections.Concurrent;
using System.Net.Sockets;
using System.Text;
using OrleansVncCluster.IntegrationTests.Infrastructure;

namespace OrleansVncCluster.IntegrationTests.Deploy;

/// <summary>
/// A request a stub relay received. <paramref name="Probe"/> is the test's own <c>X-Test-Probe</c> header, which HAProxy
/// passes on: it tells a forwarded test request from HAProxy's health checks of the same path.
/// </summary>
public sealed record SeenRequest(string Path, IReadOnlyList<string> ForwardedFor, string? Probe = null)
{
    /// <summary>The header a test sets to find its own request among everything the stubs received.</summary>
    public const string ProbeHeader = "X-Test-Probe";

    /// <summary>HAProxy's own check (http-check send ... hdr Host haproxy): /healthz, no client behind it, no probe.</summary>
    public bool IsHealthCheck => Path == "/healthz" && ForwardedFor.Count == 0 && Probe is null;
}

/// <summary>
/// Stands in for a relay node where only HAProxy's side of the contract matters: every request is recorded (HAProxy's
/// /healthz checks too, so a test can see a forwarded /healthz) and answered 200 with the node's name. One request per
/// connection.
/// </summary>
public sealed class StubRelay : IAsyncDisposable
{
    private const int MaxHeadBytes = 16 * 1024;
    private readonly ConcurrentQueue<SeenRequest> _requests = new();
    private readonly TcpTarget _target;

    private StubRelay(string name)
    {
        Name = name;
        _target = TcpTarget.Custom(ServeAsync);
    }

    /// <summary>The node's name, the body of each answer.</summary>
    public string Name { get; }

    /// <summary>Its loopback port.</summary>
    public int Port => _target.Port;

    /// <summary>Requests other than HAProxy's health checks, oldest first.</summary>
    public IReadOnlyList<SeenRequest> Requests => [.. _requests.Where(request => !request.IsHealthCheck)];

    /// <summary>Every request received, HAProxy's health checks included, oldest first.</summary>
    public IReadOnlyList<SeenRequest> AllRequests => [.. _requests];

    /// <summary>Listens on a free loopback port.</summary>
    public static StubRelay Start(string name) => new(name);

    public ValueTask DisposeAsync() => _target.DisposeAsync();

    private async Task ServeAsync(NetworkStream stream, CancellationToken cancellation)
    {
        var lines = (await ReadHeadAsync(stream, cancellation)).Split("\r\n");
        var path = lines[0].Split(' ') is [_, var target, ..] ? target : "";
        string[] Header(string name) => [.. lines.Skip(1)
            .Where(line => line.StartsWith(name + ":", StringComparison.OrdinalIgnoreCase))
            .Select(line => line[(name.Length + 1)..].Trim())];
        _requests.Enqueue(new SeenRequest(path, Header("X-Forwarded-For"), Header(SeenRequest.ProbeHeader).FirstOrDefault()));

        var body = $"{Name}\n";
        var response = $"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {body.Length}\r\nConnection: close\r\n\r\n{body}";
        await stream.WriteAsync(Encoding.ASCII.GetBytes(response), cancellation);
    }

    private static async Task<string> ReadHeadAsync(NetworkStream stream, CancellationToken cancellation)
    {
        var buffer = new byte[MaxHeadBytes];
        var length = 0;
        while (length < buffer.Length)
        {
            var read = await stream.ReadAsync(buffer.AsMemory(length), cancellation);
            if (read == 0)
            {
                break;
            }

            length += read;
            var text = Encoding.ASCII.GetString(buffer, 0, length);
            var end = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
            if (end >= 0)
            {
                return text[..end];
            }
        }

        return Encoding.ASCII.GetString(buffer, 0, length);
    }
}
