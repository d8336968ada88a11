using Microsoft.Extensions.Logging.Abstractions;
using OrleansVncCluster.Relay.Admission;
using OrleansVncCluster.Relay.Tickets;
using OrleansVncCluster.Relay.Tokens;

namespace OrleansVncCluster.Tests.Admission;

/// <summary>
/// A session is bound to what its token led to at the lookup: a resume credential issued later names that VM, not the
/// address the target check put into the entry after it.
/// </summary>
public sealed class TicketVmCheckTests
{
    [Theory]
    [InlineData("4711")]
    [InlineData(null)]
    public async Task TheBinding_IsOfTheLookedUpEntry_NotOfTheEntryTheTargetCheckRewrote(string? vm)
    {
        var looked = new ConsoleTokenEntry
        {
            Target = ConsoleTarget.Tcp("vnc-host.example", 5901), Source = "file",
            Vm = vm is null ? null : new VmIdentity { Id = vm, Enterprise = "Tenant" },
        };
        var context = new AdmissionContext("127.0.0.1", null, "", "relay") { Entry = looked };
        Assert.Null(context.Binding);

        Assert.Null(await new TicketVmCheck(NullLogger<TicketVmCheck>.Instance).CheckAsync(context, TestContext.Current.CancellationToken));
        // The target check resolves the host name and puts the address it dialled into the entry.
        context.Entry = looked with { Target = ConsoleTarget.Tcp("10.0.0.9", 5901) };

        Assert.Equal(TicketBinding.Of(looked), context.Binding);
        Assert.Equal(context.Binding, context.Binding);
    }

    [Fact]
    public async Task ALaterLookup_BindsTheSessionAfresh()
    {
        var first = new ConsoleTokenEntry { Target = ConsoleTarget.Tcp("10.0.0.1", 5901), Source = "file", Vm = new VmIdentity { Id = "1" } };
        var second = first with { Vm = new VmIdentity { Id = "2" } };
        var check = new TicketVmCheck(NullLogger<TicketVmCheck>.Instance);
        var context = new AdmissionContext("127.0.0.1", null, "", "relay") { Entry = first };
        await check.CheckAsync(context, TestContext.Current.CancellationToken);
        Assert.Equal(TicketBinding.Of(first), context.Binding);

        context.Entry = second;
        await check.CheckAsync(context, TestContext.Current.CancellationToken);
        Assert.Equal(TicketBinding.Of(second), context.Binding);
    }
}
