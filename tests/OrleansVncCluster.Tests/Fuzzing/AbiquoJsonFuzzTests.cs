using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using FsCheck;
using FsCheck.Fluent;
using Microsoft.Extensions.Logging.Abstractions;
using OrleansVncCluster.Relay.Abiquo;

namespace OrleansVncCluster.Tests.Fuzzing;

/// <summary>
/// Property checks of the Abiquo JSON mapping (Abiquo/AbiquoJson.cs, AbiquoClient, AbiquoTokens): whatever an API (or
/// whatever answers in its place) sends, the only failure is the documented <see cref="AbiquoException"/>, and a valid
/// inventory maps every console address to the legacy md5("IP:PORT") token.
/// </summary>
public sealed class AbiquoJsonFuzzTests
{
    private const string ApiUrl = "http://abiquo.test/api";

    private sealed record Vm(int Id, string? Ip, int Port, string State);

    private static readonly Gen<Vm> VmGen =
        from id in Gen.Choose(1, 100_000)
        from ip in Gen.Frequency(
            (8, Gen.Choose(0, 255).Four().Select(a => (string?)$"10.{a.Item2}.{a.Item3}.{a.Item4}")),
            (1, Gen.Constant((string?)null)),
            (1, Gen.Constant((string?)"")))
        from port in Gen.Frequency((8, Gen.Choose(5900, 65535)), (1, Gen.Constant(0)), (1, Gen.Choose(1, 5899)))
        from state in Gen.Elements("ON", "OFF", "NOT_ALLOCATED", "PAUSED")
        select new Vm(id, ip, port, state);

    private static readonly Gen<string> JunkGen = Gen.Elements(
        "", "null", "{", "}", "[", "]", "\"", "1e400", "-1", "true", "{}", "[]", "\"\\u0000\"", "NaN", "\"x\":", ",", "\"vdrpPort\": \"abc\"",
        "\"vdrpPort\": 99999999999", "\"collection\": {}", "\"links\": [{\"rel\":\"next\",\"href\":\"http://[\"}]", "\"href\": \"::::\"", "\uFEFF");

    [Fact]
    public void MutatedOrArbitraryDocuments_FailOnlyWithAbiquoException()
    {
        var document = VmGen.ListOf().Select(VmsDocument);
        var mutated = from doc in document
                      from position in Gen.Choose(0, 10_000)
                      from junk in JunkGen
                      from how in Gen.Choose(0, 3)
                      select Mutate(doc, position % (doc.Length + 1), junk, how);
        var href = Fuzz.TextOf("http:/[]?#%@ .:\\abiquo");
        var nextLinked = from doc in document
                         from next in href
                         select doc.Replace("{\"links\":[]", $"{{\"links\":[{{\"rel\":\"next\",\"href\":{JsonSerializer.Serialize(next)}}}]", StringComparison.Ordinal);
        var body = Gen.Frequency((5, mutated), (1, nextLinked), (1, Fuzz.TextOf("{}[]\",:0123456789truefalsn ")), (1, JunkGen));
        var input = body.SelectMany(_ => Gen.Frequency((4, Gen.Constant(EnterprisesDocument($"{ApiUrl}/vms"))), (1, mutated), (1, href.Select(EnterprisesDocument))),
            (vms, enterprises) => (Vms: vms, Enterprises: enterprises));

        Fuzz.Check(input, pair =>
        {
            try
            {
                Read(pair.Enterprises, pair.Vms);
            }
            catch (AbiquoException)
            {
                // The documented failure: the sync keeps its previous table.
            }
        }, tests: 1500);
    }

    [Fact]
    public void ValidInventory_MapsEveryConsoleAddress_ToItsMd5Token()
    {
        Fuzz.Check(VmGen.ListOf(), vms =>
        {
            var inventory = Read(EnterprisesDocument($"{ApiUrl}/vms"), VmsDocument(vms));
            var tokens = AbiquoTokens.Build(inventory.VirtualMachines).Tokens;

            var expected = vms.Where(vm => !string.IsNullOrEmpty(vm.Ip) && vm.Port is >= 1 and <= 65535)
                .Select(vm => (Token: Md5($"{vm.Ip}:{vm.Port}"), Target: $"{vm.Ip}:{vm.Port}"))
                .DistinctBy(e => e.Token)
                .OrderBy(e => e.Token, StringComparer.Ordinal);
            Assert.Equal(expected, tokens.Select(t => (Token: t.Key, Target: t.Value.Target.ToString())).OrderBy(e => e.Token, StringComparer.Ordinal));
            Assert.Equal(vms.Count, inventory.VirtualMachines.Count);
        }, tests: 500);
    }

    private static AbiquoInventory Read(string enterprises, string vms)
    {
        var options = new AbiquoOptions { ApiUrl = ApiUrl, User = "fuzz", Password = "fuzz", Timeout = TimeSpan.FromSeconds(5) };
        using var http = new HttpClient(new CannedApi(enterprises, vms));
        var client = new AbiquoClient(http, Microsoft.Extensions.Options.Options.Create(options), NullLogger<AbiquoClient>.Instance);
        return client.GetVirtualMachinesAsync(CancellationToken.None).GetAwaiter().GetResult();
    }

    private static string VmsDocument(IEnumerable<Vm> vms) => JsonSerializer.Serialize(new
    {
        links = Array.Empty<object>(),
        collection = vms.Select(vm => new { id = vm.Id, name = $"ABQ_{vm.Id}", label = $"vm {vm.Id}", state = vm.State, vdrpIP = vm.Ip, vdrpPort = vm.Port, links = Array.Empty<object>() }),
    });

    private static string EnterprisesDocument(string vmsHref) =>
        $$"""{"links":[],"collection":[{"id":1,"name":"Acme","links":[{"rel":"virtualmachines","href":{{JsonSerializer.Serialize(vmsHref)}}}]}]}""";

    private static string Mutate(string document, int at, string junk, int how) => how switch
    {
        0 => document[..at],                                  // truncated
        1 => document.Insert(at, junk),                       // junk inserted
        2 => at < document.Length ? document.Remove(at, 1).Insert(at, junk) : document + junk, // a character replaced
        _ => document.Replace("\"vdrpPort\":", "\"vdrpPort\":" + junk, StringComparison.Ordinal), // values of the wrong type
    };

    private static string Md5(string address) => Convert.ToHexStringLower(MD5.HashData(Encoding.UTF8.GetBytes(address)));

    /// <summary>Answers the enterprise list and every other request (the VM pages) with fixed bodies.</summary>
    private sealed class CannedApi(string enterprises, string vms) : HttpMessageHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var body = request.RequestUri!.AbsolutePath.EndsWith("/admin/enterprises", StringComparison.Ordinal) ? enterprises : vms;
            return Task.FromResult(new HttpResponseMessage(HttpStatusCode.OK)
            {
                Content = new StringContent(body, Encoding.UTF8, "application/json"),
            });
        }
    }
}
