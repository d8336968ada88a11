using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using OrleansVncCluster.IntegrationTests.Console;
using OrleansVncCluster.IntegrationTests.Infrastructure;

namespace OrleansVncCluster.IntegrationTests.Tickets;

/// <summary>
/// Two nodes on one redis-server behind the shipped haproxy.cfg, sharing a ticket secret and a ticket API key, with
/// plain tokens turned off; one echo target behind one token, loaded by node A's token file, plus two tokens whose
/// sessions are refused after the ticket checks: one at a place the default target policy refuses, one at a closed port.
/// </summary>
public sealed class TicketClusterFixture : IAsyncLifetime
{
    public const string Secret = "integration-ticket-secret-0123456789-abcdef";
    public const string ApiKey = "portal-api-key-0123456789-abcdefgh";

    public string Token { get; } = "ticketed-" + Guid.NewGuid().ToString("N")[..12];
    /// <summary>A token at 169.254.169.254:80, which the default target policy refuses (4403).</summary>
    public string ReservedToken { get; } = "reserved-" + Guid.NewGuid().ToString("N")[..12];

    /// <summary>A token at a loopback port nothing listens on: the dial fails (1011).</summary>
    public string DeadToken { get; } = "dead-" + Guid.NewGuid().ToString("N")[..12];

    public string TokenFile { get; private set; } = null!;

    /// <summary>The VM binding of the echo token's entry (a token-file entry: its source and target).</summary>
    public string EchoBinding => TicketMint.FileBinding(TokenFile, $"127.0.0.1:{Echo.Port}");

    public RedisServer Redis { get; private set; } = null!;

    /// <summary>The nodes' Orleans ServiceId: the prefix of their grain state keys in Redis.</summary>
    public string ServiceId { get; private set; } = null!;
    public TcpTarget Echo { get; private set; } = null!;
    public RelayNodeProcess NodeA { get; private set; } = null!;
    public RelayNodeProcess NodeB { get; private set; } = null!;
    public HaproxyServer Haproxy { get; private set; } = null!;

    public Uri HaproxySocket(string query) => new($"ws://127.0.0.1:{Haproxy.Port}/websockify?{query}");

    public async ValueTask InitializeAsync()
    {
        Redis = await RedisServer.StartAsync();
        Echo = TcpTarget.Echo();
        var secrets = Repo.TempDirectory("tickets");
        var secretFile = Path.Combine(secrets, "ticket-secret");
        var apiKeyFile = Path.Combine(secrets, "ticket-api-key");
        await File.WriteAllTextAsync(secretFile, Secret + "\n");
        await File.WriteAllTextAsync(apiKeyFile, ApiKey + "\n");
        var cluster = ServiceId = "tickets-" + Guid.NewGuid().ToString("N")[..8];
        var tokenFile = TokenFile = TokenFiles.Write(Repo.TempDirectory("tickets"), (Token, $"127.0.0.1:{Echo.Port}"),
            (ReservedToken, "169.254.169.254:80"), (DeadToken, $"127.0.0.1:{Ports.Free()}"));
        Dictionary<string, string?> Environment() => new()
        {
            ["Orleans__ClusterId"] = cluster,
            ["Orleans__ServiceId"] = cluster,
            ["Tickets__SecretFile"] = secretFile,
            ["Tickets__ApiKeyFile"] = apiKeyFile,
            ["Tokens__AcceptPlainTokens"] = "false",
        };

        var starting = new[]
        {
            RelayNodeProcess.StartAsync(new RelayNodeSettings { RedisConnectionString = Redis.ConnectionString, TokenFile = tokenFile, SiloName = "ticket-a", Environment = Environment() }),
            RelayNodeProcess.StartAsync(new RelayNodeSettings { RedisConnectionString = Redis.ConnectionString, SiloName = "ticket-b", Environment = Environment() }),
        };
        try
        {
            await Task.WhenAll(starting);
        }
        catch
        {
            // A fixture that fails to start is not disposed: stop the node that did start, or it outlives the run.
            foreach (var started in starting.Where(t => t.IsCompletedSuccessfully))
            {
                await started.Result.DisposeAsync();
            }

            throw;
        }

        var nodes = starting.Select(t => t.Result).ToArray();
        (NodeA, NodeB) = (nodes[0], nodes[1]);
        Haproxy = await HaproxyServer.StartAsync(nodes);
        // The token file loads in the background: node A issues tickets once its grain holds the token.
        await Eventually.HoldsAsync(async () =>
        {
            using var response = await IssueAsync(NodeA, new { token = Token });
            return response.StatusCode == HttpStatusCode.OK;
        }, TimeSpan.FromSeconds(30), $"node A issues a ticket for {Token} (its token file loaded)");
    }

    /// <summary>POST /api/tickets on <paramref name="node"/> with the admin token (or <paramref name="bearer"/>).</summary>
    public static async Task<HttpResponseMessage> IssueAsync(RelayNodeProcess node, object body, string? bearer = null)
    {
        using var http = node.AdminClient();
        if (bearer is not null)
        {
            http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", bearer);
        }

        return await http.PostAsJsonAsync(new Uri("/api/tickets", UriKind.Relative), body);
    }

    /// <summary>A fresh ticket from node A's admin endpoint.</summary>
    public async Task<string> TicketAsync(bool singleUse = false, string? token = null)
    {
        using var response = await IssueAsync(NodeA, new { token = token ?? Token, singleUse });
        response.EnsureSuccessStatusCode();
        using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return document.RootElement.GetProperty("ticket").GetString()!;
    }

    public async ValueTask DisposeAsync()
    {
        if (Haproxy is not null)
        {
            await Haproxy.DisposeAsync();
        }

        foreach (var node in new[] { NodeA, NodeB })
        {
            if (node is not null)
            {
                await node.DisposeAsync();
            }
        }

        if (Echo is not null)
        {
            await Echo.DisposeAsync();
        }

        if (Redis is not null)
        {
            await Redis.DisposeAsync();
        }
    }
}
