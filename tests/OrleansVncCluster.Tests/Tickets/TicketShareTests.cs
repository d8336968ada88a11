using Microsoft.Extensions.Logging.Abstractions;
using OrleansVncCluster.Relay.Admission;
using OrleansVncCluster.Relay.ConsolePage;
using OrleansVncCluster.Relay.Tickets;
using OrleansVncCluster.Relay.Tokens;

namespace OrleansVncCluster.Tests.Tickets;

/// <summary>The share flag (issue 14, the console page's share button): sealed in a control ticket's flags, carried into
/// its session's resume credential, absent from older tickets, and what the page's share call issues with it.</summary>
public sealed class TicketShareTests
{
    private const string Secret = "cluster-secret-0123456789-abcdefghijklmnop";
    private const string Token = "2e843805d056a266227cbb6b699a7ee0";
    private static readonly DateTimeOffset Now = new(2026, 11, 23, 12, 0, 0, TimeSpan.Zero);
    private static readonly TicketKey Key = new(Secret);
    private static readonly ConsoleTokenEntry Vm = new() { Target = ConsoleTarget.Tcp("10.60.1.5", 5907), Source = "file:test" };

    /// <summary>A gate with tickets and resuming on, and sharing as asked (also used by the share call's tests).</summary>
    internal static TicketGate Gate(bool allowShare = true, TimeSpan? shareTtl = null, TimeSpan? maxTtl = null)
    {
        var options = new TicketOptions { Secret = Secret, AllowShare = allowShare, ShareTtl = shareTtl ?? TimeSpan.FromMinutes(10), MaxTtl = maxTtl ?? TimeSpan.FromMinutes(10) };
        return new TicketGate(
            new TicketKeyRing(new TestOptions<TicketOptions>(options), TimeProvider.System, NullLogger<TicketKeyRing>.Instance),
            null!,
            new TestOptions<TokenOptions>(new TokenOptions()),
            new TestOptions<TicketOptions>(options),
            TimeProvider.System,
            NullLogger<TicketGate>.Instance);
    }

    private static ConsoleTicket ControlTicket(bool mayShare) => new(Key.Id, Token, DateTimeOffset.UtcNow.AddMinutes(1), "nonce", SingleUse: true)
    {
        Version = 2,
        Binding = TicketBinding.Of(Vm),
        VmId = "4711",
        User = "alice",
        Clipboard = ClipboardDirections.FromVm,
        MayShare = mayShare,
    };

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void TheShareFlag_IsSealedAndReadBack_BesideTheOtherFlags(bool mayShare)
    {
        var text = TicketText.Issue(Key, Token, TicketBinding.Of(Vm), Now.AddSeconds(60), singleUse: true, clipboard: ClipboardDirections.ToVm, mayShare: mayShare);

        Assert.Equal(TicketStatus.Valid, TicketText.Verify(text, id => id == Key.Id ? Key : null, Now, out var ticket));
        Assert.Equal((mayShare, true, false, ClipboardDirections.ToVm), (ticket!.MayShare, ticket.SingleUse, ticket.ViewOnly, ticket.Clipboard));
    }

    [Fact]
    public void ATicketIssuedBeforeTheFlag_MayNotShare()
    {
        // Issued as builds before the share button did: no share argument, flags bit 4 clear; vt1 has no such bit at all.
        var text = TicketText.Issue(Key, Token, TicketBinding.Of(Vm), Now.AddSeconds(60), singleUse: false);
        var legacy = TicketText.IssueV1(Key, Token, Now.AddSeconds(60), singleUse: false);

        TicketText.Verify(text, _ => Key, Now, out var ticket);
        TicketText.Verify(legacy, _ => Key, Now, out var v1);

        Assert.False(ticket!.MayShare);
        Assert.False(v1!.MayShare);
    }

    [Fact]
    public void AViewTicket_CannotCarryTheShareFlag()
    {
        var refused = Assert.Throws<ArgumentException>(() =>
            TicketText.Issue(Key, Token, TicketBinding.Of(Vm), Now.AddSeconds(60), singleUse: true, viewOnly: true, mayShare: true));

        Assert.Contains("only a control ticket may share", refused.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void TheResumeCredential_CarriesTheShareFlagOfItsTicket(bool mayShare)
    {
        var gate = Gate();

        var grant = gate.VerifyResume(gate.IssueResume("abc123def456", Token, TicketBinding.Of(Vm), ControlTicket(mayShare)));

        Assert.Equal(mayShare, grant!.MayShare);
        Assert.Equal(mayShare, gate.MayShare(grant));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void TheResumeCredential_KeepsARecordedSessionRecorded_BesideItsShareFlag(bool record)
    {
        var gate = Gate();

        var grant = gate.VerifyResume(gate.IssueResume("abc123def456", Token, TicketBinding.Of(Vm), ControlTicket(mayShare: true) with { Record = record }));

        Assert.Equal((record, true), (grant!.Record, grant.MayShare));
    }

    [Fact]
    public void ATicketAskingToRecordAndToShare_CarriesBothFlags()
    {
        var text = TicketText.Issue(Key, Token, TicketBinding.Of(Vm), Now.AddSeconds(60), singleUse: true, mayShare: true, record: true);

        Assert.Equal(TicketStatus.Valid, TicketText.Verify(text, _ => Key, Now, out var ticket));
        Assert.Equal((true, true), (ticket!.Record, ticket.MayShare));
    }

    [Fact]
    public void AResumeCredentialOfAPlainTokenSession_MayNotShare()
    {
        var gate = Gate();

        var grant = gate.VerifyResume(gate.IssueResume("abc123def456", Token, TicketBinding.Of(Vm), ticket: null));

        Assert.False(gate.MayShare(grant!));
    }

    [Fact]
    public void WithSharingTurnedOff_ATicketWithTheFlag_MayNotShare()
    {
        var gate = Gate(allowShare: false);

        var grant = gate.VerifyResume(gate.IssueResume("abc123def456", Token, TicketBinding.Of(Vm), ControlTicket(mayShare: true)));

        Assert.True(grant!.MayShare);
        Assert.False(gate.MayShare(grant));
    }

    [Fact]
    public void TheSharedTicket_IsASingleUseViewTicketForTheSameVm_NeverAbleToShareOnItself()
    {
        var gate = Gate();
        var owner = gate.VerifyResume(gate.IssueResume("abc123def456", Token, TicketBinding.Of(Vm), ControlTicket(mayShare: true)))!;

        var text = gate.IssueShare(owner, ShareLinks.SharedUser(owner.User), out var expiresAt);

        Assert.Equal(TicketStatus.Valid, TicketText.Verify(text, _ => Key, DateTimeOffset.UtcNow, out var shared));
        Assert.Equal((Token, TicketBinding.Of(Vm), "4711", "shared by alice"), (shared!.Token, shared.Binding, shared.VmId, shared.User));
        Assert.Equal((true, true, false, ClipboardDirections.FromVm), (shared.SingleUse, shared.ViewOnly, shared.MayShare, shared.Clipboard));
        Assert.Equal(expiresAt, shared.ExpiresAt);
        Assert.InRange(expiresAt - DateTimeOffset.UtcNow, TimeSpan.FromMinutes(9), TimeSpan.FromMinutes(10));
    }

    [Fact]
    public void TheSharedTicketsLifetime_IsCutToTicketsMaxTtl()
    {
        var gate = Gate(shareTtl: TimeSpan.FromMinutes(30), maxTtl: TimeSpan.FromMinutes(2));
        var owner = gate.VerifyResume(gate.IssueResume("abc123def456", Token, TicketBinding.Of(Vm), ControlTicket(mayShare: true)))!;

        gate.IssueShare(owner, "shared by alice", out var expiresAt);

        Assert.InRange(expiresAt - DateTimeOffset.UtcNow, TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(2));
    }

    [Theory]
    [InlineData("alice", "shared by alice")]
    [InlineData(null, "shared")]
    public void TheSharedTicketsUser_SaysWhoShared(string? owner, string expected) => Assert.Equal(expected, ShareLinks.SharedUser(owner));

    [Fact]
    public void TheSharedTicketsUser_FitsATicket_ForTheLongestOwnerName() =>
        Assert.Equal(TicketText.MaxUserLength, ShareLinks.SharedUser(new string('a', TicketText.MaxUserLength)).Length);

    [Theory]
    [InlineData("00:00:00")]
    [InlineData("02:00:00")]
    public void AShareTtlOutOfRange_StopsTheNode_WithTheSettingToFix(string ttl)
    {
        var validator = new TicketOptionsValidator(new TestOptions<TokenOptions>(new TokenOptions()));

        var result = validator.Validate(null, new TicketOptions { Secret = Secret, ShareTtl = TimeSpan.Parse(ttl, System.Globalization.CultureInfo.InvariantCulture) });

        Assert.True(result.Failed);
        Assert.Contains("Tickets:ShareTtl", result.FailureMessage, StringComparison.Ordinal);
    }
}
