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

    /// <summary>Issues a ticket with <paramref name="role"/> and does a browser's RFB handshake with it.</summary>
    private static async Task<ConsoleClient> OpenAsync(RelayNodeProcess node, string token, string role)
    {
        var answer = await TicketConsole.IssueAsync(node, new { token, role });
        Assert.Equal(role, answer.GetProperty("role").GetString());
        return await TicketConsole.OpenAsync(node, answer.GetProperty("ticket").GetString(), Patience);
    }
}
