using OrleansVncCluster.Relay.Tickets;
using OrleansVncCluster.Relay.Tokens;

namespace OrleansVncCluster.Tests.Tickets;

/// <summary>A ticket's clipboard choice (issue 13, item 4): sealed in the flags, absent in older tickets, which then mean
/// the cluster's default.</summary>
public sealed class TicketClipboardTests
{
    private const string Token = "2e843805d056a266227cbb6b699a7ee0";
    private static readonly DateTimeOffset Now = new(2026, 11, 23, 12, 0, 0, TimeSpan.Zero);
    private static readonly TicketKey Key = new("current-secret-0123456789-abcdefghijklmnop");
    private static readonly ConsoleTokenEntry Vm = new() { Target = ConsoleTarget.Tcp("10.60.1.5", 5907), Source = "file:test" };

    [Theory]
    [InlineData(ClipboardDirections.Both)]
    [InlineData(ClipboardDirections.ToVm)]
    [InlineData(ClipboardDirections.FromVm)]
    [InlineData(ClipboardDirections.None)]
    public void TheClipboardChoice_IsSealedAndReadBack_BesideTheOtherFlags(ClipboardDirections clipboard)
    {
        var text = TicketText.Issue(Key, Token, TicketBinding.Of(Vm), Now.AddSeconds(60), singleUse: true, viewOnly: true, clipboard: clipboard);

        Assert.Equal(TicketStatus.Valid, TicketText.Verify(text, id => id == Key.Id ? Key : null, Now, out var ticket));
        Assert.Equal((clipboard, true, true), (ticket!.Clipboard, ticket.SingleUse, ticket.ViewOnly));
    }

    [Fact]
    public void ATicketIssuedBeforeTheChoice_AllowsBothWays_SoTheClusterDefaultDecides()
    {
        // Issued as builds before the clipboard policy did: no clipboard argument, flags bits 2 and 3 clear.
        var text = TicketText.Issue(Key, Token, TicketBinding.Of(Vm), Now.AddSeconds(60), singleUse: false);
        var legacy = TicketText.IssueV1(Key, Token, Now.AddSeconds(60), singleUse: false);

        TicketText.Verify(text, _ => Key, Now, out var ticket);
        TicketText.Verify(legacy, _ => Key, Now, out var v1);

        Assert.Equal(ClipboardDirections.Both, ticket!.Clipboard);
        Assert.Equal(ClipboardDirections.Both, v1!.Clipboard);
    }

    [Theory]
    [InlineData(ClipboardDirections.Both)]
    [InlineData(ClipboardDirections.ToVm)]
    [InlineData(ClipboardDirections.None)]
    public void AResumeCredential_CarriesTheClipboardItsTicketAllowed(ClipboardDirections clipboard)
    {
        // A page that comes back must not get the cluster's wider default (issue 13, item 7 meets item 4).
        var grant = new ConsoleTicket(Key.Id, Token, Now, "s1", SingleUse: false, ViewOnly: false)
        {
            Binding = TicketBinding.Of(Vm), ResumedSession = "s1", Clipboard = clipboard,
        };

        var text = ResumeText.Issue(Key, grant, Now.AddMinutes(2));

        Assert.Equal(TicketStatus.Valid, ResumeText.Verify(text, _ => Key, Now, out var resumed));
        Assert.Equal(clipboard, resumed!.Clipboard);
    }

    [Theory]
    [InlineData("both", ClipboardDirections.Both)]
    [InlineData(" TO-VM ", ClipboardDirections.ToVm)]
    [InlineData("from-vm", ClipboardDirections.FromVm)]
    [InlineData("none", ClipboardDirections.None)]
    public void TheWords_ReadAndWriteBack(string text, ClipboardDirections expected)
    {
        Assert.True(ClipboardText.TryParse(text, out var directions));
        Assert.Equal(expected, directions);
        Assert.Equal(text.Trim().ToLowerInvariant(), ClipboardText.Format(directions));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("to_vm")]
    [InlineData("off")]
    public void OtherWords_AreNotAChoice(string? text) => Assert.False(ClipboardText.TryParse(text, out _));
}
