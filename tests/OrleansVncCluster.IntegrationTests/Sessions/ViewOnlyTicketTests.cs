using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using OrleansVncCluster.IntegrationTests.Infrastructure;

namespace OrleansVncCluster.IntegrationTests.Sessions;

/// <summary>A "view" ticket's input never reaches the VNC server; a "control" ticket's does (issue 13, part 3).</summary>
public sealed class ViewOnlyTicketTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(15);
    private static readonly byte[] Key = [4, 1, 0, 0, 0, 0, 0, 0x61];
    private static readonly byte[] Pointer = [5, 1, 0, 10, 0, 10];
    private static readonly byte[] UpdateRequest = [3, 0, 0, 0, 0, 0, 0, 64, 0, 48];

    [Fact]
    public async Task ViewTicket_KeyAndPointerEventsNeverReachTheServer_AndTheSessionIsListedAsView()
    {
        await using var server = new RecordingRfbServer();
        var (node, token) = await StartNodeAsync(server);
        await using (node)
        {
            await using var client = await OpenAsync(node, token, "view");
            await client.SendAsync((byte[])[.. Key, .. Pointer, .. UpdateRequest]);

            // The update request goes last: once it is there, anything not dropped before it would be there too.
            await server.WaitForSuffixAsync(UpdateRequest, Patience);
            Assert.Equal(UpdateRequest, server.Received);

            using var admin = node.AdminClient();
            var sessions = await admin.GetFromJsonAsync<JsonElement>("/api/sessions");
            Assert.Contains(sessions.GetProperty("sessions").EnumerateArray(), s => s.GetProperty("role").GetString() == "view");
        }
    }

    [Fact]
    public async Task ControlTicket_KeyAndPointerEventsReachTheServer()
    {
        await using var server = new RecordingRfbServer();
        var (node, token) = await StartNodeAsync(server);
        await using (node)
        {
            await using var client = await OpenAsync(node, token, "control");
            byte[] sent = [.. Key, .. Pointer, .. UpdateRequest];
            await client.SendAsync(sent);

            await server.WaitForSuffixAsync(UpdateRequest, Patience);
            Assert.Equal(sent, server.Received);
        }
    }

    private static async Task<(RelayNodeProcess Node, string Token)> StartNodeAsync(RecordingRfbServer server)
    {
        var directory = Repo.TempDirectory("view");
        var token = "view-" + Guid.NewGuid().ToString("N")[..12];
        var secret = Path.Combine(directory, "ticket-secret");
        await File.WriteAllTextAsync(secret, Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32)) + "\n");
        var node = await RelayNodeProcess.StartAsync(new RelayNodeSettings
        {
            TokenFile = TokenFiles.Write(directory, (token, $"127.0.0.1:{server.Port}")),
            SiloName = "view",
            Environment = { ["Tickets__SecretFile"] = secret },
        });
        return (node, token);
    }

    /// <summary>Issues a ticket with <paramref name="role"/> (once the token file is loaded) and does a browser's RFB
    /// handshake with it: security None, then ServerInit.</summary>
    private static async Task<ConsoleClient> OpenAsync(RelayNodeProcess node, string token, string role)
    {
        string? ticket = null;
        using var admin = node.AdminClient();
        await Eventually.HoldsAsync(async () =>
        {
            using var response = await admin.PostAsJsonAsync(new Uri("/api/tickets", UriKind.Relative), new { token, role });
            if (response.StatusCode != HttpStatusCode.OK)
            {
                return false;
            }

            using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
            Assert.Equal(role, document.RootElement.GetProperty("role").GetString());
            ticket = document.RootElement.GetProperty("ticket").GetString();
            return true;
        }, TimeSpan.FromSeconds(20), $"the node issues a {role} ticket (its token file loaded)");

        var client = await ConsoleClient.ConnectAsync(node.WebSocketUri(ticket), ["binary"]);
        await client.ReadExactlyAsync(12, Patience);
        await client.SendAsync("RFB 003.008\n"u8.ToArray());
        Assert.Equal(new byte[] { 1, 1 }, await client.ReadExactlyAsync(2, Patience));
        await client.SendAsync(new byte[] { 1 });
        Assert.Equal(new byte[4], await client.ReadExactlyAsync(4, Patience));
        await client.SendAsync(new byte[] { 1 });
        await client.ReadExactlyAsync(24 + 4, Patience);
        return client;
    }
}
