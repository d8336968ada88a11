using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace OrleansVncCluster.IntegrationTests.Infrastructure;

/// <summary>A browser's way into a console the relay logs in to: a ticket from POST /api/tickets, then the RFB handshake
/// the relay presents (version 3.8, security None, ServerInit of <see cref="RecordingRfbServer"/>).</summary>
public static class TicketConsole
{
    /// <summary>Issues a ticket for <paramref name="request"/> once the node's token file is loaded; returns the answer.</summary>
    public static async Task<JsonElement> IssueAsync(RelayNodeProcess node, object request)
    {
        JsonElement answer = default;
        using var admin = node.AdminClient();
        await Eventually.HoldsAsync(async () =>
        {
            using var response = await admin.PostAsJsonAsync(new Uri("/api/tickets", UriKind.Relative), request);
            if (response.StatusCode != HttpStatusCode.OK)
            {
                return false;
            }

            answer = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();
            return true;
        }, TimeSpan.FromSeconds(20), "the node issues a ticket (its token file loaded)");
        return answer;
    }

    /// <summary>Opens the console with <paramref name="ticket"/> and does the browser's RFB handshake, up to ServerInit.</summary>
    public static async Task<ConsoleClient> OpenAsync(RelayNodeProcess node, string? ticket, TimeSpan patience)
    {
        var client = await ConsoleClient.ConnectAsync(node.WebSocketUri(ticket), ["binary"]);
        await client.ReadExactlyAsync(12, patience);
        await client.SendAsync("RFB 003.008\n"u8.ToArray());
        Assert.Equal(new byte[] { 1, 1 }, await client.ReadExactlyAsync(2, patience));
        await client.SendAsync(new byte[] { 1 });
        Assert.Equal(new byte[4], await client.ReadExactlyAsync(4, patience));
        await client.SendAsync(new byte[] { 1 });
        await client.ReadExactlyAsync(24 + 4, patience);
        return client;
    }
}
