using System.Net;
using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using OrleansVncCluster.Relay.Abiquo;
using OrleansVncCluster.Relay.Tokens;

namespace OrleansVncCluster.Tests.Abiquo;

/// <summary>VMs to tokens, and the client reading Abiquo's documents exactly as the reference prints them.</summary>
public sealed class AbiquoTokensTests
{
    // The real Abiquo 3.10 example from the API reference, with its enterprise list around it.
    private const string Enterprises = """
        {"totalSize": 1, "links": [], "collection": [{"id": 20, "name": "Ignasi Enterprise", "links": [
          {"rel": "virtualmachines", "href": "https://abiquo.example:443/api/admin/enterprises/20/action/virtualmachines"}]}]}
        """;

    private const string Example310 = """
        {"links": [],
         "collection": [{
           "links": [
             {"title": "DOCKER", "rel": "machine", "type": "application/vnd.abiquo.machine+json",
              "href": "https://abiquo.example:443/api/admin/datacenters/1/racks/9/machines/16"},
             {"title": "Ignasi Enterprise", "rel": "enterprise", "type": "application/vnd.abiquo.enterprise+json",
              "href": "https://abiquo.example:443/api/admin/enterprises/20"}],
           "id": 250, "name": "ABQ_4bf5f875-a00a-4d59-85b8-f562455c08b4", "label": "mysql:latest",
           "uuid": "4bf5f875-a00a-4d59-85b8-f562455c08b4", "state": "ON", "idState": 4,
           "vdrpIP": "10.60.1.79", "vdrpPort": 5901, "vdrpEnabled": true, "password": "tir74bnd",
           "type": "MANAGED", "cpu": 2, "ram": 60}]}
        """;

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact]
    public void LegacyExamples_GiveTheDocumentedTokens()
    {
        var tokens = AbiquoTokens.Build([Vm(1, "10.60.1.79", 5901), Vm(2, "10.60.1.79", 5902)]).Tokens;

        Assert.Equal(ConsoleTarget.Tcp("10.60.1.79", 5901), tokens["2e843805d056a266227cbb6b699a7ee0"].Target);
        Assert.Equal(ConsoleTarget.Tcp("10.60.1.79", 5902), tokens["01c1e7885b7dddcbd4815db0fb484cd5"].Target);
    }

    [Theory]
    [InlineData(null, 5901)]
    [InlineData("", 5901)]
    [InlineData("  ", 5901)]
    [InlineData("10.0.0.1", 0)]
    [InlineData("10.0.0.1", -1)]
    [InlineData("10.0.0.1", 70000)]
    public void VmWithoutConsoleAddress_GetsNoToken(string? ip, int port)
    {
        var set = AbiquoTokens.Build([Vm(1, ip, port)]);

        Assert.Empty(set.Tokens);
        Assert.Equal(1, set.WithoutConsole);
    }

    [Fact]
    public void ARebuild_ReusesTheTokenAndEntryOfEachUnchangedVm()
    {
        var first = AbiquoTokens.Build([Vm(1, "10.0.0.1", 5901), Vm(2, "10.0.0.2", 5901), Vm(3, "10.0.0.3", 5901)]).Tokens;
        AbiquoVirtualMachine[] now = [Vm(1, "10.0.0.1", 5901), Vm(2, "10.0.0.2", 5901) with { Label = "renamed" }, Vm(3, "10.0.0.9", 5901)];

        var second = AbiquoTokens.Build(now, first).Tokens;

        var (unchanged, relabelled, moved) = (TokenText.Md5Token("10.0.0.1", 5901), TokenText.Md5Token("10.0.0.2", 5901), TokenText.Md5Token("10.0.0.9", 5901));
        Assert.Same(first[unchanged], second[unchanged]);
        Assert.Same(KeyOf(first, unchanged), KeyOf(second, unchanged));
        Assert.NotSame(first[relabelled], second[relabelled]);
        Assert.Equal("renamed", second[relabelled].Vm!.Label);
        Assert.Equal(ConsoleTarget.Tcp("10.0.0.9", 5901), second[moved].Target);
        Assert.False(second.ContainsKey(TokenText.Md5Token("10.0.0.3", 5901)));
        // Reused or not, the result is what a build without the last one gives.
        Assert.Equal(AbiquoTokens.Build(now).Tokens.OrderBy(p => p.Key, StringComparer.Ordinal), second.OrderBy(p => p.Key, StringComparer.Ordinal));
    }

    /// <summary>
    /// The builder keeps a VM's last entry when its fields say nothing changed, without making a new entry to compare.
    /// That must be exactly when a new entry would have the same content: a change in any field of the VM, one at a time
    /// and found by reflection (so a field added later is changed too), is seen, and no change is seen as one.
    /// </summary>
    [Fact]
    public void AnUnchangedVm_IsOneWhoseNewEntryWouldHaveTheSameContent()
    {
        var vm = new AbiquoVirtualMachine(1234567, "ABQ_1", "web", "ON", "10.0.0.1", 5901, "pw", "Acme", "kvm-01");
        var parameters = typeof(AbiquoVirtualMachine).GetConstructors().Single(c => c.GetParameters().Length > 1).GetParameters();
        var changed = parameters.SelectMany(parameter => OtherValues(parameter.ParameterType, Field(vm, parameter.Name!))
            .Select(value => (Field: parameter.Name!, Vm: With(vm, parameter.Name!, value)))).ToList();
        Assert.Equal(parameters.Length, changed.DistinctBy(c => c.Field).Count());

        foreach (var (field, other) in changed.Append(("none", vm with { Label = new string("web".AsSpan()) })))
        {
            foreach (var (before, after) in new[] { (vm, other), (other, vm) })
            {
                if (string.IsNullOrWhiteSpace(before.VdrpIP) || string.IsNullOrWhiteSpace(after.VdrpIP))
                {
                    continue;
                }

                var last = AbiquoTokenBuilder.NewEntry(before.VdrpIP.Trim(), before);
                var expected = AbiquoTokenBuilder.NewEntry(after.VdrpIP.Trim(), after).SameContentAs(last);
                Assert.True(expected == AbiquoTokenBuilder.DescribesUnchanged(last, after.VdrpIP.Trim(), after),
                    $"a change of {field} from {Field(before, field)} to {Field(after, field)}: the builder disagrees with SameContentAs");
            }
        }
    }

    private static object? Field(AbiquoVirtualMachine vm, string name) =>
        name == "none" ? null : typeof(AbiquoVirtualMachine).GetProperty(name)!.GetValue(vm);

    private static AbiquoVirtualMachine With(AbiquoVirtualMachine vm, string name, object? value)
    {
        var constructor = typeof(AbiquoVirtualMachine).GetConstructors().Single(c => c.GetParameters().Length > 1);
        var arguments = constructor.GetParameters().Select(p => p.Name == name ? value : Field(vm, p.Name!)).ToArray();
        return (AbiquoVirtualMachine)constructor.Invoke(arguments);
    }

    /// <summary>Values other than <paramref name="value"/> for a field of this type, null among them where it may be null.</summary>
    private static IEnumerable<object?> OtherValues(Type type, object? value) => value switch
    {
        string text => [text + "x", text.ToUpperInvariant() == text ? text.ToLowerInvariant() : text.ToUpperInvariant(), null],
        int number when type == typeof(int?) => [number + 1, -number, null],
        int number => [number + 1, number - 1],
        _ => throw new InvalidOperationException($"AbiquoVirtualMachine has a field of type {type}: give this test values for it"),
    };

    private static string KeyOf(IReadOnlyDictionary<string, ConsoleTokenEntry> tokens, string token) =>
        tokens.Keys.Single(key => key == token);

    [Fact]
    public void SharedAddress_KeepsTheRunningVm()
    {
        var set = AbiquoTokens.Build([Vm(1, "10.0.0.1", 5900, "ON"), Vm(2, "10.0.0.1", 5900, "OFF")]);

        Assert.Equal("1", Assert.Single(set.Tokens).Value.Vm!.Id);
        Assert.Equal(1, set.SharedAddresses);
    }

    [Fact]
    public void SharedAddressAmongStoppedVms_KeepsTheLastListed()
    {
        var set = AbiquoTokens.Build([Vm(1, "10.0.0.1", 5900, "OFF"), Vm(2, "10.0.0.1", 5900, "OFF")]);

        Assert.Equal("2", Assert.Single(set.Tokens).Value.Vm!.Id);
    }

    [Fact]
    public async Task ReferenceDocuments_YieldTheDocumentedTokenAndFields()
    {
        var client = Client(new Dictionary<string, string>
        {
            ["/api/admin/enterprises?limit=0"] = Enterprises,
            ["/api/admin/enterprises/20/action/virtualmachines?limit=0"] = Example310,
        });

        var inventory = await client.GetVirtualMachinesAsync(Cancel);
        var entry = Assert.Single(AbiquoTokens.Build(inventory.VirtualMachines).Tokens);

        Assert.Equal("2e843805d056a266227cbb6b699a7ee0", entry.Key);
        Assert.Equal(ConsoleTarget.Tcp("10.60.1.79", 5901), entry.Value.Target);
        Assert.Equal(new VmIdentity { Id = "250", Name = "ABQ_4bf5f875-a00a-4d59-85b8-f562455c08b4", Label = "mysql:latest", Enterprise = "Ignasi Enterprise", Hypervisor = "DOCKER" },
            entry.Value.Vm);
        Assert.Equal("tir74bnd", entry.Value.Password);
    }

    [Fact]
    public async Task FieldNames_MatchWhateverTheirCase()
    {
        var client = Client(new Dictionary<string, string>
        {
            ["/api/admin/enterprises?limit=0"] = Enterprises.Replace("\"links\"", "\"Links\"", StringComparison.Ordinal).Replace("\"rel\"", "\"REL\"", StringComparison.Ordinal),
            ["/api/admin/enterprises/20/action/virtualmachines?limit=0"] = Example310.Replace("vdrpIP", "vdrpIp", StringComparison.Ordinal).Replace("vdrpPort", "VDRPPORT", StringComparison.Ordinal),
        });

        var inventory = await client.GetVirtualMachinesAsync(Cancel);

        Assert.Equal("2e843805d056a266227cbb6b699a7ee0", Assert.Single(AbiquoTokens.Build(inventory.VirtualMachines).Tokens).Key);
    }

    [Fact]
    public async Task NextLinkPointingBack_FailsInsteadOfLooping()
    {
        var loop = """{"links": [{"rel": "next", "href": "https://abiquo.example/api/admin/enterprises?limit=0"}], "collection": []}""";
        var client = Client(new Dictionary<string, string> { ["/api/admin/enterprises?limit=0"] = loop });

        var error = await Assert.ThrowsAsync<AbiquoException>(() => client.GetVirtualMachinesAsync(Cancel));

        Assert.Equal(AbiquoFailure.InvalidResponse, error.Failure);
    }

    [Fact]
    public async Task EmptyBody_FailsAsInvalidResponse()
    {
        var client = Client(new Dictionary<string, string> { ["/api/admin/enterprises?limit=0"] = "" });

        var error = await Assert.ThrowsAsync<AbiquoException>(() => client.GetVirtualMachinesAsync(Cancel));

        Assert.Equal(AbiquoFailure.InvalidResponse, error.Failure);
    }

    [Theory]
    [InlineData("""{"links": [], "collection": [{"code": "EN-0", "message": "The requested enterprise does not exist", "links": []}]}""", "EN-0")]
    [InlineData("<html><body>Not found</body></html>", null)]
    [InlineData("", null)]
    [InlineData("{\"collection\": [", null)]
    public void ErrorBodies_AreParsedWhenTheyAreAbiquoErrors(string body, string? code) =>
        Assert.Equal(code, AbiquoClient.ParseErrors(body).Code);

    [Theory]
    [InlineData("https://a/api/admin/enterprises/1/action/virtualmachines", "https://a/api/admin/enterprises/1/action/virtualmachines?limit=0")]
    [InlineData("https://a/api/vms?by=name", "https://a/api/vms?by=name&limit=0")]
    [InlineData("https://a/api/vms?", "https://a/api/vms?limit=0")]
    public void LimitZero_IsAppendedToTheHrefAsGiven(string href, string expected) =>
        Assert.Equal(expected, AbiquoClient.AppendQuery(new Uri(href), "limit=0").OriginalString);

    [Fact]
    public void AddressReportedByTwoEnterprises_GetsNoToken_AndIsNamedWithItsVms()
    {
        var set = AbiquoTokens.Build([
            Vm(1, "10.0.0.1", 5900, "OFF", "Tenant A"),
            Vm(2, "10.0.0.1", 5900, "ON", "Tenant B"),
            Vm(3, "10.0.0.2", 5900, "ON", "Tenant A"),
        ]);

        Assert.Equal("3", Assert.Single(set.Tokens).Value.Vm!.Id);
        var contested = Assert.Single(set.Contested);
        Assert.Equal("10.0.0.1:5900", contested.Address);
        Assert.Equal(["Tenant A/1", "Tenant B/2"], contested.Vms);
    }

    [Fact]
    public void AContestedAddress_NamesEveryVmThatReportedIt_InInventoryOrder_EvenThoseItsTokenHadReplaced()
    {
        var set = AbiquoTokens.Build([
            Vm(1, "10.0.0.1", 5900, "OFF", "Tenant A"),
            Vm(2, "10.0.0.1", 5900, "ON", "Tenant A"),
            Vm(3, "10.0.0.9", 5901, "ON", "Tenant C"),
            Vm(4, "10.0.0.1", 5900, "OFF", "Tenant A"),
            Vm(5, null, 0, "NOT_ALLOCATED", "Tenant B"),
            Vm(6, "10.0.0.1", 5900, "OFF", "Tenant B"),
            Vm(7, "10.0.0.9", 5901, "OFF", "Tenant C"),
        ]);

        var contested = Assert.Single(set.Contested);
        Assert.Equal(["Tenant A/1", "Tenant A/2", "Tenant A/4", "Tenant B/6"], contested.Vms);
        Assert.Equal("3", Assert.Single(set.Tokens).Value.Vm!.Id);
        Assert.Equal(4, set.SharedAddresses);
    }

    [Fact]
    public void AddressReusedWithinOneEnterprise_IsNotContested()
    {
        var set = AbiquoTokens.Build([Vm(1, "10.0.0.1", 5900, "OFF", "Tenant A"), Vm(2, "10.0.0.1", 5900, "ON", "Tenant A")]);

        Assert.Equal("2", Assert.Single(set.Tokens).Value.Vm!.Id);
        Assert.Empty(set.Contested);
    }

    private static AbiquoVirtualMachine Vm(int id, string? ip, int port, string state = "ON", string enterprise = "Enterprise") =>
        new(id, $"ABQ_{id}", $"vm-{id}", state, ip, port, "pw", enterprise, "kvm-1");

    private static AbiquoClient Client(Dictionary<string, string> documents)
    {
        var options = new AbiquoOptions { ApiUrl = "https://abiquo.example/api", User = "admin", Password = "xabiquo" };
        return new AbiquoClient(new HttpClient(new DocumentHandler(documents)), Options.Create(options), NullLogger<AbiquoClient>.Instance);
    }

    /// <summary>Answers fixed JSON documents by path and query, checking that every request carries Basic auth and an Abiquo media type.</summary>
    private sealed class DocumentHandler(Dictionary<string, string> documents) : HttpMessageHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            Assert.Equal("Basic", request.Headers.Authorization?.Scheme);
            Assert.StartsWith("application/vnd.abiquo.", request.Headers.Accept.Single().MediaType, StringComparison.Ordinal);
            var key = request.RequestUri!.PathAndQuery;
            var response = documents.TryGetValue(key, out var body)
                ? new HttpResponseMessage(HttpStatusCode.OK) { Content = new StringContent(body, Encoding.UTF8, "application/json") }
                : new HttpResponseMessage(HttpStatusCode.NotFound);
            return Task.FromResult(response);
        }
    }
}
