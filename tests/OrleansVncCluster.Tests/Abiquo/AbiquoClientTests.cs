using System.Net;
using OrleansVncCluster.AbiquoSimulator.Faults;
using OrleansVncCluster.AbiquoSimulator.World;
using OrleansVncCluster.Relay.Abiquo;
using OrleansVncCluster.Relay.Tokens;

namespace OrleansVncCluster.Tests.Abiquo;

/// <summary>The Abiquo client against the simulator over real HTTP.</summary>
public sealed class AbiquoClientTests : IClassFixture<SimulatorFixture>
{
    private readonly SimulatorFixture _fixture;

    public AbiquoClientTests(SimulatorFixture fixture)
    {
        _fixture = fixture;
        fixture.Reset();
    }

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Inventory_HoldsEveryVmOfEveryEnterprise()
    {
        var inventory = await _fixture.Client().GetVirtualMachinesAsync(Cancel);

        Assert.Equal(SimulatorFixture.World.Enterprises, inventory.Summary.Enterprises);
        Assert.Equal(_fixture.AllVms().Select(v => v.Vm.Id).Order(), inventory.VirtualMachines.Select(v => v.Id!.Value).Order());
        Assert.Equal(1 + SimulatorFixture.World.Enterprises, inventory.Summary.Requests);
    }

    [Fact]
    public async Task CappedPages_AreFollowedByTheirNextLinks()
    {
        _fixture.Simulator.MaxPageSize = 2;

        var inventory = await _fixture.Client().GetVirtualMachinesAsync(Cancel);

        Assert.Equal(_fixture.AllVms().Count, inventory.VirtualMachines.Count);
        Assert.Equal(SimulatorFixture.World.Enterprises, inventory.Summary.Enterprises);
        var vms = _fixture.AllVms();
        var expectedRequests = 3 + Enumerable.Range(1, SimulatorFixture.World.Enterprises)
            .Sum(id => Math.Max(1, (vms.Count(v => v.Vm.EnterpriseId == id) + 1) / 2));
        Assert.Equal(expectedRequests, inventory.Summary.Requests);
    }

    [Fact]
    public async Task HrefsNamingAnotherHost_AreRefused_AndGetNoCredentials()
    {
        var proxyPort = new Uri(_fixture.Host.Addresses[1]).Port;
        var before = _fixture.Simulator.RequestsOnPort(proxyPort);
        _fixture.Simulator.PublicUrl = _fixture.Host.Addresses[1];

        var failure = await Assert.ThrowsAsync<AbiquoException>(() => _fixture.Client().GetVirtualMachinesAsync(Cancel));

        Assert.Equal(AbiquoFailure.InvalidResponse, failure.Failure);
        Assert.Contains("Abiquo:RewriteLinks", failure.Message, StringComparison.Ordinal);
        Assert.Contains($":{proxyPort}", failure.Message, StringComparison.Ordinal);
        Assert.Equal(before, _fixture.Simulator.RequestsOnPort(proxyPort));
    }

    [Fact]
    public async Task HrefsNamingAnotherHost_AreFollowedOnTheApiUrl_WithRewriteLinks()
    {
        var proxyPort = new Uri(_fixture.Host.Addresses[1]).Port;
        var before = _fixture.Simulator.RequestsOnPort(proxyPort);
        _fixture.Simulator.PublicUrl = _fixture.Host.Addresses[1];

        var inventory = await _fixture.Client(o => o.RewriteLinks = true).GetVirtualMachinesAsync(Cancel);

        Assert.Equal(_fixture.AllVms().Count, inventory.VirtualMachines.Count);
        Assert.Equal(before, _fixture.Simulator.RequestsOnPort(proxyPort));
    }

    [Fact]
    public async Task VmFields_AreKept()
    {
        var vm = _fixture.AllVms().First(v => v.Vm.VdrpPort > 0 && v.Vm.Password is not null && v.Vm.Label is not null);

        var inventory = await _fixture.Client().GetVirtualMachinesAsync(Cancel);

        var read = Assert.Single(inventory.VirtualMachines, v => v.Id == vm.Vm.Id);
        Assert.Equal(new AbiquoVirtualMachine(vm.Vm.Id, vm.Vm.Name, vm.Vm.Label, vm.Vm.State.ToWire(), vm.Vm.VdrpIP, vm.Vm.VdrpPort,
            vm.Vm.Password, vm.Enterprise.Name, vm.Hypervisor!.Name), read);
    }

    [Fact]
    public async Task Example310_YieldsTheLegacyToken()
    {
        _fixture.Simulator.World.AddVm(new NewVm
        {
            Label = "mysql:latest", State = "ON", VdrpIP = "10.60.1.79", VdrpPort = 5901, Password = "tir74bnd", Hypervisor = "DOCKER",
        });

        var inventory = await _fixture.Client().GetVirtualMachinesAsync(Cancel);
        var tokens = AbiquoTokens.Build(inventory.VirtualMachines).Tokens;

        var entry = tokens["2e843805d056a266227cbb6b699a7ee0"];
        Assert.Equal(ConsoleTarget.Tcp("10.60.1.79", 5901), entry.Target);
        Assert.Equal("tir74bnd", entry.Password);
        Assert.Equal("DOCKER", entry.Vm!.Hypervisor);
        Assert.Equal("mysql:latest", entry.Vm.Label);
        Assert.Equal("abiquo", entry.Source);
    }

    [Fact]
    public async Task UndeployedVms_GetNoToken_OffVmsDo()
    {
        var inventory = await _fixture.Client().GetVirtualMachinesAsync(Cancel);
        var set = AbiquoTokens.Build(inventory.VirtualMachines);

        var withToken = set.Tokens.Values.Select(e => int.Parse(e.Vm!.Id!, System.Globalization.CultureInfo.InvariantCulture)).ToHashSet();
        var vms = _fixture.AllVms();
        Assert.Contains(vms, v => v.Vm.State == VmState.NotAllocated);
        Assert.All(vms.Where(v => v.Vm.State == VmState.NotAllocated), v => Assert.DoesNotContain(v.Vm.Id, withToken));
        Assert.Contains(vms, v => v.Vm.State == VmState.Off && withToken.Contains(v.Vm.Id));
        Assert.Equal(vms.Count(v => v.Vm.State == VmState.NotAllocated), set.WithoutConsole);
    }

    [Fact]
    public async Task EmptyEnterprise_GivesNoVmsAndNoError()
    {
        var empty = _fixture.Simulator.World.AddEnterprise("Empty Ltd");

        var inventory = await _fixture.Client().GetVirtualMachinesAsync(Cancel);

        Assert.Equal(SimulatorFixture.World.Enterprises + 1, inventory.Summary.Enterprises);
        Assert.DoesNotContain(inventory.VirtualMachines, v => v.Enterprise == empty.Name);
        Assert.Equal(_fixture.AllVms().Count, inventory.VirtualMachines.Count);
    }

    [Fact]
    public async Task EnterpriseDeletedDuringTheWalk_CountsAsVanished()
    {
        _fixture.Simulator.Faults.Add(new FaultRule { Kind = FaultKind.Error, Status = 404, Code = "EN-0", Path = "/enterprises/2/action" });

        var inventory = await _fixture.Client().GetVirtualMachinesAsync(Cancel);

        Assert.Equal(1, inventory.Summary.VanishedEnterprises);
        Assert.Equal(_fixture.AllVms().Count(v => v.Vm.EnterpriseId != 2), inventory.VirtualMachines.Count);
    }

    [Fact]
    public async Task EnterprisesAreHandedOver_InListedOrder_WhenAnEarlierOneAnswersLast()
    {
        // Enterprise 1 answers after the other four (read 4 at a time): its VMs must still come first.
        _fixture.Simulator.Faults.Add(new FaultRule { Kind = FaultKind.Slow, DelayMs = 1500, Path = "/enterprises/1/action", Count = 1 });
        var handed = new List<List<AbiquoVirtualMachine>>();

        var read = await _fixture.Client().ReadVirtualMachinesAsync(vms => handed.Add([.. vms]), Cancel);

        var listed = await _fixture.Client().GetVirtualMachinesAsync(Cancel);
        var order = listed.VirtualMachines.Select(v => v.Enterprise).Distinct().ToList();
        Assert.Equal(SimulatorFixture.World.Enterprises, order.Count);
        Assert.Equal(order, handed.Select(list => Assert.Single(list.Select(v => v.Enterprise).Distinct())));
        Assert.Equal(listed.VirtualMachines.Select(v => v.Id), handed.SelectMany(list => list).Select(v => v.Id));
        Assert.Equal(listed.VirtualMachines.Count, read.VirtualMachines);
    }

    [Fact]
    public async Task BareNotFound_IsAnErrorNotAVanishedEnterprise()
    {
        _fixture.Simulator.Faults.Add(new FaultRule { Kind = FaultKind.Error, Status = 404, Path = "/enterprises/2/action" });

        var error = await Assert.ThrowsAsync<AbiquoException>(() => _fixture.Client().GetVirtualMachinesAsync(Cancel));

        Assert.Equal(HttpStatusCode.NotFound, error.StatusCode);
    }

    [Fact]
    public async Task WrongPassword_Fails401WithGen5()
    {
        var error = await Assert.ThrowsAsync<AbiquoException>(() => _fixture.Client(o => o.Password = "wrong").GetVirtualMachinesAsync(Cancel));

        Assert.Equal(AbiquoFailure.HttpStatus, error.Failure);
        Assert.Equal(HttpStatusCode.Unauthorized, error.StatusCode);
        Assert.Equal("GEN-5", error.ErrorCode);
        Assert.Contains("Abiquo:User", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("wrong", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task NonAdministrator_Fails403WithGen4()
    {
        var error = await Assert.ThrowsAsync<AbiquoException>(() => _fixture.Client(o => o.User = "user").GetVirtualMachinesAsync(Cancel));

        Assert.Equal(HttpStatusCode.Forbidden, error.StatusCode);
        Assert.Equal("GEN-4", error.ErrorCode);
        Assert.Contains("cloud administrator", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task UnsupportedVersion_Fails406()
    {
        var error = await Assert.ThrowsAsync<AbiquoException>(() => _fixture.Client(o => o.ApiVersion = "9.9").GetVirtualMachinesAsync(Cancel));

        Assert.Equal(HttpStatusCode.NotAcceptable, error.StatusCode);
        Assert.Contains("Abiquo:ApiVersion", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SupportedVersion_IsAccepted()
    {
        var inventory = await _fixture.Client(o => o.ApiVersion = "3.10").GetVirtualMachinesAsync(Cancel);

        Assert.Equal(_fixture.AllVms().Count, inventory.VirtualMachines.Count);
    }

    [Fact]
    public async Task ServerError_FailsWithStatusAndAbiquoCode()
    {
        _fixture.Simulator.Faults.Add(new FaultRule { Kind = FaultKind.Error, Path = "virtualmachines" });

        var error = await Assert.ThrowsAsync<AbiquoException>(() => _fixture.Client().GetVirtualMachinesAsync(Cancel));

        Assert.Equal(HttpStatusCode.InternalServerError, error.StatusCode);
        Assert.Equal("GEN-13", error.ErrorCode);
    }

    [Fact]
    public async Task ProxyErrorWithHtmlBody_FailsWithItsStatusAndTitle()
    {
        _fixture.Simulator.Faults.Add(new FaultRule { Kind = FaultKind.Error, Status = 503 });

        var error = await Assert.ThrowsAsync<AbiquoException>(() => _fixture.Client().GetVirtualMachinesAsync(Cancel));

        Assert.Equal(HttpStatusCode.ServiceUnavailable, error.StatusCode);
        Assert.Null(error.ErrorCode);
        Assert.Contains("Error 503", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TruncatedJson_FailsAsInvalidResponse()
    {
        _fixture.Simulator.Faults.Add(new FaultRule { Kind = FaultKind.Truncate, Path = "virtualmachines", Count = 1 });

        var error = await Assert.ThrowsAsync<AbiquoException>(() => _fixture.Client().GetVirtualMachinesAsync(Cancel));

        Assert.Equal(AbiquoFailure.InvalidResponse, error.Failure);
        Assert.Contains("truncated", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task HtmlInsteadOfJson_FailsAsInvalidResponse()
    {
        _fixture.Simulator.Faults.Add(new FaultRule { Kind = FaultKind.Garbage });

        var error = await Assert.ThrowsAsync<AbiquoException>(() => _fixture.Client().GetVirtualMachinesAsync(Cancel));

        Assert.Equal(AbiquoFailure.InvalidResponse, error.Failure);
        Assert.Contains("text/html", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SlowAnswer_FailsAsTimeout()
    {
        _fixture.Simulator.Faults.Add(new FaultRule { Kind = FaultKind.Slow, DelayMs = 3000, Count = 1 });
        var options = _fixture.Options(o => o.Timeout = TimeSpan.FromMilliseconds(200));
        // Disposing the client closes the connection, which ends the simulator's wait too.
        using var http = new HttpClient(AbiquoHttp.CreateHandler(options));
        var client = new AbiquoClient(http, Microsoft.Extensions.Options.Options.Create(options), Microsoft.Extensions.Logging.Abstractions.NullLogger<AbiquoClient>.Instance);

        var error = await Assert.ThrowsAsync<AbiquoException>(() => client.GetVirtualMachinesAsync(Cancel));

        Assert.Equal(AbiquoFailure.Timeout, error.Failure);
        Assert.Contains("Abiquo:Timeout", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task NothingListening_FailsAsNetwork()
    {
        using var listener = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();

        var error = await Assert.ThrowsAsync<AbiquoException>(() =>
            _fixture.Client(o => o.ApiUrl = $"http://127.0.0.1:{port}/api").GetVirtualMachinesAsync(Cancel));

        Assert.Equal(AbiquoFailure.Network, error.Failure);
    }

    [Fact]
    public async Task UnreadablePasswordFile_SendsNothing()
    {
        var before = _fixture.Simulator.Requests;

        var error = await Assert.ThrowsAsync<AbiquoException>(() =>
            _fixture.Client(o => (o.Password, o.PasswordFile) = (null, "/nonexistent/abiquo-password")).GetVirtualMachinesAsync(Cancel));

        Assert.Equal(AbiquoFailure.Configuration, error.Failure);
        Assert.Equal(before, _fixture.Simulator.Requests);
    }

    [Fact]
    public async Task LoginAndVersion_Answer()
    {
        var client = _fixture.Client();

        Assert.Equal("admin", await client.LoginAsync(Cancel));
        Assert.Equal("3.10.1", await client.GetVersionAsync(Cancel));
    }
}
