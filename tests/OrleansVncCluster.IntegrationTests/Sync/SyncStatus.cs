using System.Net.Http.Json;
using System.Text.Json;
using OrleansVncCluster.IntegrationTests.Infrastructure;

namespace OrleansVncCluster.IntegrationTests.Sync;

/// <summary>What a node's admin API says about the singleton token sync.</summary>
public static class SyncStatus
{
    /// <summary>
    /// The silo that runs the sync grain, as <c>GET /api/sync</c> on <paramref name="node"/> reports it, once it names
    /// one for which <paramref name="accept"/> holds (any, by default). While the grain's silo is dying the call is
    /// refused or times out; this keeps asking until <paramref name="timeout"/>.
    /// </summary>
    public static async Task<string> HostAsync(RelayNodeProcess node, TimeSpan timeout, Func<string, bool>? accept = null)
    {
        string? host = null;
        await Eventually.HoldsAsync(async () =>
        {
            try
            {
                using var admin = node.AdminClient();
                admin.Timeout = TimeSpan.FromSeconds(10);
                host = (await admin.GetFromJsonAsync<JsonElement>("/api/sync")).GetProperty("host").GetString();
                return !string.IsNullOrEmpty(host) && (accept is null || accept(host));
            }
            catch (Exception exception) when (exception is HttpRequestException or TaskCanceledException)
            {
                return false;
            }
        }, timeout, $"GET /api/sync on {node.Settings.SiloName} names the silo that runs the sync");
        return host!;
    }
}
