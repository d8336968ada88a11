using System.Text;
using FsCheck;
using FsCheck.Fluent;
using OrleansVncCluster.Relay.Tickets;

namespace OrleansVncCluster.Tests.Tickets;

public sealed class TicketTextTests
{
    private const string Token = "2e843805d056a266227cbb6b699a7ee0";
    private static readonly DateTimeOffset Now = new(2026, 11, 23, 12, 0, 0, TimeSpan.Zero);
    private static readonly TicketKey Key = new("current-secret-0123456789-abcdefghijklmnop");
    private static readonly TicketKey OtherKey = new("another-cluster-secret-0123456789-abcdefgh");

    private static TicketStatus Verify(string? text, out ConsoleTicket? ticket, DateTimeOffset? at = null) =>
        TicketText.Verify(text, id => id == Key.Id ? Key : null, at ?? Now, out ticket);

    [Fact]
    public void IssuedTicket_VerifiesAndCarriesItsToken()
    {
        var text = TicketText.IssueV1(Key, Token, Now.AddSeconds(60), singleUse: true);

        Assert.Equal(TicketStatus.Valid, Verify(text, out var ticket));
        Assert.Equal(Token, ticket!.Token);
        Assert.Equal(Now.AddSeconds(60), ticket.ExpiresAt);
        Assert.True(ticket.SingleUse);
        Assert.Equal(Key.Id, ticket.KeyId);
        Assert.StartsWith($"vt1.{Key.Id}.", text, StringComparison.Ordinal);
    }

    [Fact]
    public void ViewTicket_VerifiesAsViewOnly_AndAControlTicketDoesNot()
    {
        Assert.Equal(TicketStatus.Valid, Verify(TicketText.IssueV1(Key, Token, Now.AddSeconds(60), singleUse: true, viewOnly: true), out var view));
        Assert.Equal(TicketStatus.Valid, Verify(TicketText.IssueV1(Key, Token, Now.AddSeconds(60), singleUse: true), out var control));

        Assert.True(view!.ViewOnly);
        Assert.True(view.SingleUse);
        Assert.False(control!.ViewOnly);
    }

    [Fact]
    public void Ticket_IsUrlSafeAndNeverLooksLikeAnMd5Token()
    {
        var text = TicketText.IssueV1(Key, Token, Now.AddSeconds(60), singleUse: false);

        Assert.Equal(text, Uri.EscapeDataString(text));
        Assert.True(TicketText.LooksLikeTicket(text));
        Assert.False(TicketText.LooksLikeTicket(Token));
    }

    [Fact]
    public void TwoTicketsForTheSameToken_HaveDifferentNonces()
    {
        Verify(TicketText.IssueV1(Key, Token, Now.AddSeconds(60), true), out var first);
        Verify(TicketText.IssueV1(Key, Token, Now.AddSeconds(60), true), out var second);

        Assert.NotEqual(first!.Nonce, second!.Nonce);
    }

    [Fact]
    public void Ticket_PastItsExpiry_IsExpired()
    {
        var text = TicketText.IssueV1(Key, Token, Now.AddSeconds(60), singleUse: false);

        Assert.Equal(TicketStatus.Valid, Verify(text, out _, Now.AddSeconds(59)));
        Assert.Equal(TicketStatus.Expired, Verify(text, out _, Now.AddSeconds(60)));
    }

    [Fact]
    public void Ticket_SignedWithAnotherSecret_NamesAnUnknownKey()
    {
        var text = TicketText.IssueV1(OtherKey, Token, Now.AddSeconds(60), singleUse: false);

        Assert.Equal(TicketStatus.UnknownKey, Verify(text, out _));
    }

    [Fact]
    public void Ticket_ForgedUnderOurKeyIdWithAnotherSecret_HasABadSignature()
    {
        var forged = TicketText.IssueV1(OtherKey, Token, Now.AddSeconds(60), singleUse: false).Replace(OtherKey.Id, Key.Id, StringComparison.Ordinal);

        Assert.Equal(TicketStatus.BadSignature, Verify(forged, out _));
    }

    [Fact]
    public void ChangingAnyCharacterAfterTheKeyId_IsRefused()
    {
        var text = TicketText.IssueV1(Key, Token, Now.AddSeconds(60), singleUse: false);
        var start = "vt1.".Length + Key.Id.Length + 1;
        for (var i = start; i < text.Length; i++)
        {
            foreach (var replacement in "AB_-0z.")
            {
                if (text[i] == replacement)
                {
                    continue;
                }

                var tampered = string.Concat(text.AsSpan(0, i), replacement.ToString(), text.AsSpan(i + 1));
                var status = Verify(tampered, out var ticket);
                Assert.True(status is TicketStatus.BadSignature or TicketStatus.Malformed, $"position {i} '{replacement}': {status}");
                Assert.Null(ticket);
            }
        }
    }

    [Fact]
    public void ChangingAnyCharacterOfThePrefixOrKeyId_IsRefused()
    {
        var text = TicketText.IssueV1(Key, Token, Now.AddSeconds(60), singleUse: false);
        for (var i = 0; i < "vt1.".Length + Key.Id.Length + 1; i++)
        {
            var tampered = string.Concat(text.AsSpan(0, i), text[i] == 'x' ? "y" : "x", text.AsSpan(i + 1));
            Assert.NotEqual(TicketStatus.Valid, Verify(tampered, out _));
        }
    }

    [Fact]
    public void TicketWithAnyByteFlipped_IsRefused()
    {
        var bytes = Encoding.ASCII.GetBytes(TicketText.IssueV1(Key, Token, Now.AddSeconds(60), singleUse: true));
        for (var i = 0; i < bytes.Length; i++)
        {
            for (var bit = 0; bit < 7; bit++)
            {
                var copy = (byte[])bytes.Clone();
                copy[i] ^= (byte)(1 << bit);
                Assert.NotEqual(TicketStatus.Valid, Verify(Encoding.Latin1.GetString(copy), out _));
            }
        }
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("vt1.")]
    [InlineData("vt1....")]
    [InlineData("vt1.AAAAAAAA..")]
    [InlineData("vt1.AAAAAAAA.AAAA.AAAA")]
    [InlineData("vt1.\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9.AAAA.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")]
    [InlineData("2e843805d056a266227cbb6b699a7ee0")]
    public void MalformedInput_IsMalformed(string? text) => Assert.Equal(TicketStatus.Malformed, Verify(text, out _));

    [Fact]
    public void OverlongInput_IsMalformed() =>
        Assert.Equal(TicketStatus.Malformed, Verify("vt1." + new string('A', TicketText.MaxLength), out _));

    [Fact]
    public void ArbitraryText_NeverThrowsAndNeverVerifies() =>
        Prop.ForAll(ArbMap.Default.ArbFor<string>(), text => Verify("vt1." + text, out _) != TicketStatus.Valid && Verify(text, out _) != TicketStatus.Valid)
            .QuickCheckThrowOnFailure();

    [Fact]
    public void ArbitraryBody_UnderAValidShape_NeverThrows()
    {
        var text = TicketText.IssueV1(Key, Token, Now.AddSeconds(60), singleUse: false);
        var parts = text.Split('.');
        Prop.ForAll(ArbMap.Default.ArbFor<byte[]>(), body =>
        {
            var candidate = $"vt1.{parts[1]}.{System.Buffers.Text.Base64Url.EncodeToString(body ?? [])}.{parts[3]}";
            return Verify(candidate, out _) != TicketStatus.Valid;
        }).QuickCheckThrowOnFailure();
    }

    [Fact]
    public void Issue_RefusesATokenTheRelayWouldNotAccept() =>
        Assert.Throws<ArgumentException>(() => TicketText.IssueV1(Key, "has space", Now, singleUse: false));

    [Fact]
    public void KeyId_IsDerivedFromTheSecret_TheSameOnEveryNode()
    {
        Assert.Equal(new TicketKey("current-secret-0123456789-abcdefghijklmnop").Id, Key.Id);
        Assert.NotEqual(OtherKey.Id, Key.Id);
        Assert.Equal(8, Key.Id.Length);
    }
}
