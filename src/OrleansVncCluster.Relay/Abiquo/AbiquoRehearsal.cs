using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using OrleansVncCluster.Relay.Tokens;

namespace OrleansVncCluster.Relay.Abiquo;

/// <summary>
/// A sync's load without Abiquo, for the node's start-up rehearsal (Node/StartupRehearsal): reads a made-up inventory
/// through <see cref="AbiquoClient"/> (the paging, the page reader, the hand-over by enterprise), builds its tokens
/// with <see cref="AbiquoTokenBuilder"/> from the last round's, as a re-sync does, and plans them against the last
/// round's index (<see cref="TokenTable.Plan"/>), round after round until it is told to stop. Nothing is written:
/// the plan is dropped, no grain or storage is touched, and the inventory never leaves the process.
/// </summary>
/// <remarks>
/// Why: a node's first big sync ran its load path as ReadyToRun and tier-0 code, and the runtime compiled about 1,100
/// methods again (the JSON reader, the builder, the plan, the collections they use) in the load's first seconds, on
/// the cores the users' sessions wait for: 0.4-0.6 s of JIT a second while a 100,000-VM sync loaded
/// (docs/benchmarks.md). The singleton sync grain can start on any node, a just-started one included, so every node
/// with an Abiquo source pays that here, before it is ready. What is not rehearsed: the HTTP connection itself (the
/// pages come from a handler in memory) and the apply's grain writes, which would reach storage.
/// </remarks>
public static class AbiquoRehearsal
{
    /// <summary>Enterprises of the made-up inventory; more than the client's requests in flight, so some wait their turn.</summary>
    internal const int Enterprises = 6;

    /// <summary>VMs an enterprise has, over <see cref="PagesPerEnterprise"/> pages.</summary>
    internal const int VmsPerEnterprise = 600;

    internal const int PagesPerEnterprise = 2;

    private const string ApiUrl = "http://abiquo.rehearsal.invalid/api/";

    /// <summary>
    /// Runs rounds until <paramref name="cancellationToken"/> is cancelled, and returns how many it finished. Each round
    /// moves a few VMs to new ports and turns a few off, so the builder and the plan meet reused, changed and removed
    /// tokens, as a re-sync does.
    /// </summary>
    public static Task<int> RunAsync(CancellationToken cancellationToken) => RunAsync(static _ => { }, cancellationToken);

    /// <summary>As <see cref="RunAsync(CancellationToken)"/>, handing each round's plan to <paramref name="planned"/>.</summary>
    internal static async Task<int> RunAsync(Action<TokenPlan> planned, CancellationToken cancellationToken)
    {
        var inventory = new Inventory();
        using var http = new HttpClient(inventory);
        var client = new AbiquoClient(http,
            Options.Create(new AbiquoOptions { ApiUrl = ApiUrl, User = "rehearsal", Password = "rehearsal" }),
            NullLogger<AbiquoClient>.Instance);
        IReadOnlyDictionary<string, ConsoleTokenEntry>? last = null;
        var index = new ShardedIndex();
        var rounds = 0;
        while (!cancellationToken.IsCancellationRequested)
        {
            inventory.Round = rounds;
            var builder = new AbiquoTokenBuilder(last);
            try
            {
                await client.ReadVirtualMachinesAsync(builder.Add, cancellationToken);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                break;
            }

            var set = builder.Finish();
            var plan = TokenTable.Plan(AbiquoTokens.SourceName, set.Tokens, index);
            (index, last) = (plan.NewIndex, set.Tokens);
            rounds++;
            planned(plan);
        }

        return rounds;
    }

    /// <summary>
    /// The made-up Abiquo: the enterprise list, and each enterprise's VMs in pages linked by <c>next</c>, as
    /// ../shared/reference/abiquo-api.md shows them. VM <c>v</c> of enterprise <c>e</c> sits on 10.(e).(v / 200).(v %
    /// 200) port 5900 + v % 50, but every 37th moves by the round and every 53rd is off in odd rounds.
    /// </summary>
    internal sealed class Inventory : HttpMessageHandler
    {
        private const string Json = "application/json";

        public int Round { get; set; }

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var path = request.RequestUri!.AbsolutePath;
            var query = request.RequestUri.Query;
            byte[] body;
            if (path.EndsWith("/admin/enterprises", StringComparison.Ordinal))
            {
                body = EnterprisesPage();
            }
            else if (path.EndsWith("/action/virtualmachines", StringComparison.Ordinal)
                && int.TryParse(path.Split('/')[^3], NumberStyles.None, CultureInfo.InvariantCulture, out var enterprise))
            {
                var at = query.IndexOf("page=", StringComparison.Ordinal);
                body = VmPage(enterprise, at < 0 ? 0 : int.Parse(query.AsSpan(at + "page=".Length), NumberStyles.None, CultureInfo.InvariantCulture));
            }
            else
            {
                return Task.FromResult(new HttpResponseMessage(HttpStatusCode.NotFound) { RequestMessage = request });
            }

            var content = new ByteArrayContent(body);
            content.Headers.ContentType = new MediaTypeHeaderValue(Json);
            return Task.FromResult(new HttpResponseMessage(HttpStatusCode.OK) { Content = content, RequestMessage = request });
        }

        private static byte[] EnterprisesPage()
        {
            using var stream = new MemoryStream();
            using (var json = new Utf8JsonWriter(stream))
            {
                json.WriteStartObject();
                json.WriteNumber("totalSize", Enterprises);
                json.WriteStartArray("links");
                json.WriteEndArray();
                json.WriteStartArray("collection");
                for (var e = 1; e <= Enterprises; e++)
                {
                    json.WriteStartObject();
                    json.WriteNumber("id", e);
                    json.WriteString("name", "Rehearsal " + e.ToString(CultureInfo.InvariantCulture));
                    json.WriteStartArray("links");
                    Link(json, "virtualmachines", $"{ApiUrl}admin/enterprises/{e}/action/virtualmachines");
                    json.WriteEndArray();
                    json.WriteEndObject();
                }

                json.WriteEndArray();
                json.WriteEndObject();
            }

            return stream.ToArray();
        }

        private byte[] VmPage(int enterprise, int page)
        {
            const int perPage = VmsPerEnterprise / PagesPerEnterprise;
            using var stream = new MemoryStream();
            using (var json = new Utf8JsonWriter(stream))
            {
                json.WriteStartObject();
                json.WriteStartArray("links");
                if (page + 1 < PagesPerEnterprise)
                {
                    Link(json, "next", $"{ApiUrl}admin/enterprises/{enterprise}/action/virtualmachines?limit=0&page={page + 1}");
                }

                json.WriteEndArray();
                json.WriteStartArray("collection");
                for (var v = page * perPage; v < (page + 1) * perPage; v++)
                {
                    Vm(json, enterprise, v);
                }

                json.WriteEndArray();
                json.WriteEndObject();
            }

            return stream.ToArray();
        }

        private void Vm(Utf8JsonWriter json, int enterprise, int v)
        {
            var id = enterprise * 100_000 + v;
            var uuid = string.Create(CultureInfo.InvariantCulture, $"00000000-0000-4000-8000-{id:D12}");
            json.WriteStartObject();
            json.WriteStartArray("links");
            Link(json, "machine", $"{ApiUrl}admin/datacenters/1/racks/1/machines/{v % 20}", "hv-" + (v % 20).ToString(CultureInfo.InvariantCulture));
            Link(json, "enterprise", $"{ApiUrl}admin/enterprises/{enterprise}", "Rehearsal " + enterprise.ToString(CultureInfo.InvariantCulture));
            json.WriteEndArray();
            json.WriteNumber("id", id);
            json.WriteString("name", "ABQ_" + uuid);
            json.WriteString("label", "vm-" + id.ToString(CultureInfo.InvariantCulture));
            json.WriteString("uuid", uuid);
            json.WriteString("state", v % 53 == 0 && Round % 2 == 1 ? "OFF" : "ON");
            json.WriteNumber("idState", 4);
            json.WriteString("vdrpIP", string.Create(CultureInfo.InvariantCulture, $"10.{enterprise}.{v / 200}.{v % 200}"));
            json.WriteNumber("vdrpPort", 5900 + v % 50 + (v % 37 == 0 ? Round % 7 : 0));
            json.WriteBoolean("vdrpEnabled", true);
            if (v % 3 == 0)
            {
                json.WriteString("password", "rh" + (v % 1000).ToString("D3", CultureInfo.InvariantCulture));
            }

            json.WriteString("type", "MANAGED");
            json.WriteEndObject();
        }

        private static void Link(Utf8JsonWriter json, string rel, string href, string? title = null)
        {
            json.WriteStartObject();
            json.WriteString("rel", rel);
            json.WriteString("href", href);
            if (title is not null)
            {
                json.WriteString("title", title);
            }

            json.WriteEndObject();
        }
    }
}
