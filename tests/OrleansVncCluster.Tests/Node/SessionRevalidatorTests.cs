using OrleansVncCluster.Relay.Node;
using OrleansVncCluster.Relay.Tokens;

namespace OrleansVncCluster.Tests.Node;

public sealed class SessionRevalidatorTests
{
    private static readonly DateTimeOffset Then = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private static ConsoleTokenEntry Entry(string host, int port, DateTimeOffset setAt, string? vm = null) =>
        new() { Target = ConsoleTarget.Tcp(host, port), Source = "file", SetAt = setAt, Vm = vm is null ? null : new VmIdentity { Id = vm } };

    [Fact]
    public void UnchangedEntry_WhoseHostNameWasResolvedAtAdmission_IsNotRetargeted() =>
        Assert.False(SessionRevalidator_Retargeted(Entry("127.0.0.1", 5901, Then), Entry("localhost", 5901, Then)));

    [Theory]
    [InlineData("10.0.0.9", 5901, null, true)]
    [InlineData("10.0.0.5", 5902, null, true)]
    [InlineData("10.0.0.5", 5901, "other-vm", true)]
    [InlineData("10.0.0.5", 5901, null, false)]
    [InlineData("::ffff:10.0.0.5", 5901, null, false)]
    public void ChangedEntry_IsRetargetedWhenItsAddressPortOrVmDiffers(string host, int port, string? vm, bool expected) =>
        Assert.Equal(expected, SessionRevalidator_Retargeted(Entry("10.0.0.5", 5901, Then), Entry(host, port, Then.AddMinutes(1), vm)));

    private static bool SessionRevalidator_Retargeted(ConsoleTokenEntry session, ConsoleTokenEntry current) =>
        SessionRevalidator.Retargeted(session, current);
}
