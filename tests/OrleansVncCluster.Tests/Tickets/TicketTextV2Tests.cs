using System.Buffers.Text;
using System.Text;
using FsCheck;
using FsCheck.Fluent;
using OrleansVncCluster.Relay.Tickets;
using OrleansVncCluster.Relay.Tokens;

namespace OrleansVncCluster.Tests.Tickets;

/// <summary>The sealed, VM-bound vt2 ticket (issue 12, item 1): opaque, authenticated, bound to one VM.</summary>
public sealed class TicketTextV2Tests
{
    private const string Token = "2e843805d056a266227cbb6b699a7ee0";
    private static readonly DateTimeOffset Now = new(2026, 11, 23, 12, 0, 0, TimeSpan.Zero);
    private static readonly TicketKey Key = new("current-secret-0123456789-abcdefghijklmnop");
    private static readonly TicketKey OtherKey = new("another-cluster-secret-0123456789-abcdefgh");

    private static readonly ConsoleTokenEntry VmA = new()
    {
        Target = ConsoleTarget.Tcp("10.60.1.5", 5907), Source = "abiquo",
        Vm = new VmIdentity { Id = "4711", Enterprise = "Tenant A", Label = "web-a" },
    };

    private static string Issue(TicketKey key, DateTimeOffset? expiresAt = null, bool singleUse = true, string? user = "alice@tenant-a") =>
        TicketText.Issue(key, Token, TicketBinding.Of(VmA), expiresAt ?? Now.AddSeconds(60), singleUse, viewOnly: false, VmA.Vm!.Id, user);

    private static TicketStatus Verify(string? text, out ConsoleTicket? ticket, DateTimeOffset? at = null) =>
        TicketText.Verify(text, id => id == Key.Id ? Key : null, at ?? Now, out ticket);

    [Fact]
    public void IssuedTicket_OpensAndNamesItsTokenVmAndUser()
    {
        var text = Issue(Key);

        Assert.Equal(TicketStatus.Valid, Verify(text, out var ticket));
        Assert.StartsWith($"vt2.{Key.Id}.", text, StringComparison.Ordinal);
        Assert.Equal((Token, 2, "4711", "alice@tenant-a", true), (ticket!.Token, ticket.Version, ticket.VmId, ticket.User, ticket.SingleUse));
        Assert.Equal(Now.AddSeconds(60), ticket.ExpiresAt);
        Assert.True(TicketBinding.Matches(ticket, VmA));
        Assert.Equal(text, Uri.EscapeDataString(text));
    }

    [Fact]
    public void NothingOfTheTokenTheVmOrTheUser_IsReadableInTheText()
    {
        var text = Issue(Key);
        var sealedBytes = Base64Url.DecodeFromChars(text.AsSpan(text.LastIndexOf('.') + 1));
        var legacy = TicketText.IssueV1(Key, Token, Now.AddSeconds(60), singleUse: true);

        foreach (var secret in new[] { Token, "4711", "alice@tenant-a", "Tenant A" })
        {
            Assert.DoesNotContain(secret, text, StringComparison.Ordinal);
            Assert.True(sealedBytes.AsSpan().IndexOf(Encoding.UTF8.GetBytes(secret)) < 0, $"'{secret}' is readable in the sealed bytes");
        }

        // What vt1 did, and vt2 no longer does: the token in clear text inside the body.
        Assert.True(Base64Url.DecodeFromChars(legacy.Split('.')[2]).AsSpan().IndexOf(Encoding.UTF8.GetBytes(Token)) >= 0);
    }

    [Fact]
    public void TwoTicketsForTheSameVm_ShareNoBytes_BeyondPrefixAndKeyId()
    {
        var first = Issue(Key);
        var second = Issue(Key);
        var head = $"vt2.{Key.Id}.".Length;

        Assert.Equal(first.Length, second.Length);
        Assert.True(Enumerable.Range(head, 8).Count(i => first[i] == second[i]) < 8, "the random nonces should differ");
        Verify(first, out var a);
        Verify(second, out var b);
        Assert.NotEqual(a!.Nonce, b!.Nonce);
    }

    [Fact]
    public void ChangingAnyCharacter_IsRefused()
    {
        var text = Issue(Key);
        for (var i = 0; i < text.Length; i++)
        {
            foreach (var replacement in "AQgw_-0z.1")
            {
                if (text[i] == replacement)
                {
                    continue;
                }

                var tampered = string.Concat(text.AsSpan(0, i), replacement.ToString(), text.AsSpan(i + 1));
                var status = Verify(tampered, out var ticket);
                Assert.True(status is not TicketStatus.Valid and not TicketStatus.Expired, $"position {i} '{replacement}': {status}");
                Assert.Null(ticket);
            }
        }
    }

    [Fact]
    public void AnyBitFlipped_IsRefused()
    {
        var bytes = Encoding.ASCII.GetBytes(Issue(Key));
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

    [Fact]
    public void SealedWithAnotherSecret_NamesAnUnknownKey_AndUnderOurKeyIdIsRefusedAsAltered()
    {
        var foreign = Issue(OtherKey);
        var forged = foreign.Replace(OtherKey.Id, Key.Id, StringComparison.Ordinal);

        Assert.Equal(TicketStatus.UnknownKey, Verify(foreign, out _));
        Assert.Equal(TicketStatus.BadSignature, Verify(forged, out var ticket));
        Assert.Null(ticket);
    }

    [Fact]
    public void PastItsExpiry_IsExpired()
    {
        var text = Issue(Key, expiresAt: Now.AddSeconds(60));

        Assert.Equal(TicketStatus.Valid, Verify(text, out _, Now.AddSeconds(59)));
        Assert.Equal(TicketStatus.Expired, Verify(text, out _, Now.AddSeconds(60)));
    }

    [Fact]
    public void AnotherVmOnTheSameAddress_DoesNotMatchTheTicket()
    {
        Verify(Issue(Key), out var ticket);
        var vmBOfAnotherTenant = VmA with { Vm = new VmIdentity { Id = "815", Enterprise = "Tenant B" } };
        var sameIdOtherEnterprise = VmA with { Vm = VmA.Vm! with { Enterprise = "Tenant B" } };
        var vmAMovedAndRelabelled = VmA with { Target = ConsoleTarget.Tcp("10.60.1.9", 5901), Vm = VmA.Vm! with { Label = "renamed" } };

        Assert.False(TicketBinding.Matches(ticket!, vmBOfAnotherTenant));
        Assert.False(TicketBinding.Matches(ticket!, sameIdOtherEnterprise));
        Assert.True(TicketBinding.Matches(ticket!, vmAMovedAndRelabelled));
    }

    [Fact]
    public void FileTokenTicket_IsBoundToTheEntry_ItsSourceAndTarget()
    {
        var file = new ConsoleTokenEntry { Target = ConsoleTarget.Tcp("127.0.0.1", 5901), Source = "file:/etc/vnc-relay/tokens.cfg" };
        Verify(TicketText.Issue(Key, "desk1", TicketBinding.Of(file), Now.AddSeconds(60), singleUse: false), out var ticket);

        Assert.True(TicketBinding.Matches(ticket!, file with { SetAt = Now }));
        Assert.False(TicketBinding.Matches(ticket!, file with { Target = ConsoleTarget.Tcp("127.0.0.1", 5902) }));
        Assert.False(TicketBinding.Matches(ticket!, file with { Source = "admin" }));
    }

    [Fact]
    public void LongestTicket_FitsTheLengthTheRelayReads()
    {
        var text = TicketText.Issue(Key, new string('t', TokenText.MaxLength), TicketBinding.Of(VmA), Now.AddSeconds(60), true, false,
            new string('9', TicketText.MaxVmIdLength), new string('u', TicketText.MaxUserLength));

        Assert.True(text.Length <= TicketText.MaxLength, $"{text.Length} characters");
        Assert.Equal(TicketStatus.Valid, Verify(text, out _));
    }

    [Fact]
    public void ArbitrarySealedText_UnderAValidShape_NeverThrowsAndNeverOpens() =>
        Prop.ForAll(ArbMap.Default.ArbFor<byte[]>(), body =>
            Verify($"vt2.{Key.Id}.{Base64Url.EncodeToString(body ?? [])}", out _) is not TicketStatus.Valid and not TicketStatus.Expired)
            .QuickCheckThrowOnFailure();
}
