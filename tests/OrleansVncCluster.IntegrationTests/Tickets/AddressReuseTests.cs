using System.Net;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using OrleansVncCluster.IntegrationTests.Infrastructure;
using OrleansVncCluster.IntegrationTests.Sync;

namespace OrleansVncCluster.IntegrationTests.Tickets;

/// <summary>
/// Issue 12's "must show": Abiquo reuses a console address across two enterprises, in the simulator (a real HTTP
/// server), synced by a real node every second. While the two tenants' VMs share the address no token exists for it;
/// once the address belongs to VM B alone, a ticket issued for VM A is refused with 4412 and the relay never dials the
/// address. On the version before vt2 the ticket named only the md5 token, so it opened B's screen.
/// </summary>
public sealed class AddressReuseTests
{
    private const string Secret = "address-reuse-ticket-secret-0123456789-abcd";
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task TicketForVmA_NeverOpensVmBOfAnotherEnterprise_OnTheAddressAReleased()
    {
        // The VNC servers: whatever answers at A's address says who it is, and counts the connections it gets.
        await using var screenAtA = Screen("VM-A");
        await using var screenAtC = Screen("VM-A-moved");
        await using var simulator = await SimulatorProcess.StartAsync(screenAtA.Port);
        var vmA = await simulator.VmIdAtAsync(screenAtA.Port);
        var otherTenant = await simulator.AddEnterpriseAsync("Tenant B");
        await using var screenOfB = Screen("VM-B");
        var vmB = await simulator.AddVmAsync(otherTenant, screenOfB.Port);

        var secret = Path.Combine(Repo.TempDirectory("reuse"), "ticket-secret");
        await File.WriteAllTextAsync(secret, Secret + "\n");
        var environment = simulator.NodeEnvironment();
        environment["Tickets__SecretFile"] = secret;
        environment["Tokens__AcceptPlainTokens"] = "false";
        await using var node = await RelayNodeProcess.StartAsync(new RelayNodeSettings { SiloName = "reuse", Environment = environment });
        var addressOfA = SimulatorProcess.TokenOf(screenAtA.Port);

        // A ticket asked for by VM id alone (the portal knows VM ids, not md5 tokens), once the first sync ran.
        await Eventually.HoldsAsync(async () =>
        {
            using var response = await IssueAsync(node, new { vm = $"{vmA}", ttlSeconds = 300 });
            return response.StatusCode == HttpStatusCode.OK;
        }, Timeout, $"node issues a ticket for VM {vmA} (its first sync ran)");
        var ticketsForA = await Task.WhenAll(Enumerable.Range(0, 3).Select(_ => TicketAsync(node, new { vm = $"{vmA}", ttlSeconds = 300, user = "alice" })));
        Assert.Equal("VM-A", await ScreenNameAsync(node, ticketsForA[0]));

        // Abiquo puts B (another enterprise) on A's address while A still reports it: the address is contested.
        await simulator.MoveVmByIdAsync(vmB, screenAtA.Port);
        await Eventually.HoldsAsync(async () =>
        {
            using var response = await IssueAsync(node, new { token = addressOfA });
            return response.StatusCode == HttpStatusCode.NotFound;
        }, Timeout, "the token of the shared address is gone (no token when two enterprises share an address)");
        using (var byVm = await IssueAsync(node, new { vm = $"{vmA}" }))
        {
            Assert.Equal(HttpStatusCode.NotFound, byVm.StatusCode);
        }

        Assert.Equal(((WebSocketCloseStatus)4404, "unknown console token"), await RefusalAsync(node, ticketsForA[1]));

        // A moves to another host: the address is B's alone, its token leads to B.
        await simulator.MoveVmByIdAsync(vmA, screenAtC.Port);
        await Eventually.HoldsAsync(async () =>
        {
            using var response = await IssueAsync(node, new { token = addressOfA, vm = $"{vmB}" });
            return response.StatusCode == HttpStatusCode.OK;
        }, Timeout, $"the token of A's old address leads to VM {vmB} of the other enterprise");
        var dialsBefore = screenAtA.Accepted;

        var refusal = await RefusalAsync(node, ticketsForA[2]);

        Assert.Equal(((WebSocketCloseStatus)4412, "console ticket is for another VM: this console address now belongs to a different VM"), refusal);
        Assert.Equal(dialsBefore, screenAtA.Accepted);
        await node.Process.WaitForOutputAsync("it was issued for VM " + vmA, Timeout);
        // A new ticket for A, asked for by VM id, follows A to its new address.
        Assert.Equal("VM-A-moved", await ScreenNameAsync(node, await TicketAsync(node, new { vm = $"{vmA}" })));
    }

    private static TcpTarget Screen(string name) => TcpTarget.Custom(async (stream, ct) =>
    {
        await stream.WriteAsync(Encoding.ASCII.GetBytes(name + "\n"), ct);
        var buffer = new byte[1024];
        while (await stream.ReadAsync(buffer, ct) > 0)
        {
        }
    });

    private static async Task<HttpResponseMessage> IssueAsync(RelayNodeProcess node, object body)
    {
        using var admin = node.AdminClient();
        return await admin.PostAsJsonAsync(new Uri("/api/tickets", UriKind.Relative), body);
    }

    private static async Task<string> TicketAsync(RelayNodeProcess node, object body)
    {
        using var response = await IssueAsync(node, body);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"POST /api/tickets answered {(int)response.StatusCode}: {text}");
        using var document = JsonDocument.Parse(text);
        return document.RootElement.GetProperty("ticket").GetString()!;
    }

    /// <summary>Opens a console with the ticket and reads the name the VNC server at its address announces.</summary>
    private static async Task<string> ScreenNameAsync(RelayNodeProcess node, string ticket)
    {
        await using var client = await ConsoleClient.ConnectAsync(node.WebSocketUri(ticket));
        var name = new StringBuilder();
        while (true)
        {
            var next = (char)(await client.ReadExactlyAsync(1, Timeout))[0];
            if (next == '\n')
            {
                return name.ToString();
            }

            name.Append(next);
        }
    }

    private static async Task<(WebSocketCloseStatus? Status, string? Reason)> RefusalAsync(RelayNodeProcess node, string ticket)
    {
        await using var client = await ConsoleClient.ConnectAsync(node.WebSocketUri(ticket));
        return await client.ReadUntilCloseAsync(Timeout);
    }
}
