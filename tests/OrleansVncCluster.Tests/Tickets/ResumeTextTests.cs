using OrleansVncCluster.Relay.Tickets;
using OrleansVncCluster.Relay.Tokens;

namespace OrleansVncCluster.Tests.Tickets;

/// <summary>The resume credential (issue 13, item 7): sealed like a ticket, under its own key, never taken for one.</summary>
public sealed class ResumeTextTests
{
    private const string Token = "2e843805d056a266227cbb6b699a7ee0";
    private static readonly DateTimeOffset Now = new(2026, 12, 2, 12, 0, 0, TimeSpan.Zero);
    private static readonly TicketKey Key = new("current-secret-0123456789-abcdefghijklmnop");
    private static readonly TicketKey OtherKey = new("another-cluster-secret-0123456789-abcdefgh");

    private static readonly ConsoleTicket Grant = new(Key.Id, Token, default, "abc123def456", SingleUse: false, ViewOnly: true)
    {
        Binding = "binding-of-vm-4711",
        VmId = "4711",
        User = "alice@tenant-a",
        ResumedSession = "abc123def456",
    };

    private static string Issue(TicketKey key, DateTimeOffset? expiresAt = null) => ResumeText.Issue(key, Grant, expiresAt ?? Now.AddMinutes(2));

    private static TicketStatus Verify(string? text, out ConsoleTicket? grant, DateTimeOffset? at = null) =>
        ResumeText.Verify(text, id => id == Key.Id ? Key : null, at ?? Now, out grant);

    [Fact]
    public void IssuedCredential_OpensAsTheSessionsGrant_NeverSingleUse()
    {
        var text = Issue(Key);

        Assert.Equal(TicketStatus.Valid, Verify(text, out var grant));
        Assert.StartsWith($"vr1.{Key.Id}.", text, StringComparison.Ordinal);
        Assert.Equal((Token, "binding-of-vm-4711", "4711", "alice@tenant-a", "abc123def456", true, false),
            (grant!.Token, grant.Binding, grant.VmId, grant.User, grant.ResumedSession, grant.ViewOnly, grant.SingleUse));
        Assert.Equal(Now.AddMinutes(2), grant.ExpiresAt);
        Assert.DoesNotContain(Token, text, StringComparison.Ordinal);
        Assert.DoesNotContain("alice", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Credential_IsNotATicket_AndATicketIsNotACredential()
    {
        var credential = Issue(Key);
        var ticket = TicketText.Issue(Key, Token, "binding-of-vm-4711", Now.AddMinutes(2), singleUse: false);

        Assert.False(TicketText.LooksLikeTicket(credential));
        Assert.NotEqual(TicketStatus.Valid, TicketText.Verify(credential, id => Key, Now, out _));
        Assert.NotEqual(TicketStatus.Valid, Verify(ticket, out _));
        // The same sealed bytes under the other prefix: another key and other associated data, so neither opens.
        Assert.Equal(TicketStatus.BadSignature, TicketText.Verify("vt2." + credential[4..], id => Key, Now, out _));
        Assert.Equal(TicketStatus.BadSignature, Verify("vr1." + ticket[4..], out _));
    }

    [Fact]
    public void Credential_PastItsWindow_IsExpired()
    {
        var text = Issue(Key, Now.AddMinutes(2));

        Assert.Equal(TicketStatus.Expired, Verify(text, out _, Now.AddMinutes(2)));
    }

    [Fact]
    public void Credential_OfAnotherSecret_HasAnUnknownKey_AndAnAlteredOneFails()
    {
        Assert.Equal(TicketStatus.UnknownKey, Verify(Issue(OtherKey), out _));

        var text = Issue(Key);
        var middle = text.Length / 2;
        var altered = text[..middle] + (text[middle] == 'A' ? 'B' : 'A') + text[(middle + 1)..];
        Assert.Equal(TicketStatus.BadSignature, Verify(altered, out _));
        Assert.Equal(TicketStatus.Malformed, Verify("vr1.short", out _));
        Assert.Equal(TicketStatus.Malformed, Verify(null, out _));
    }

    [Fact]
    public void Issue_RefusesAGrantWithoutSessionOrBinding()
    {
        Assert.ThrowsAny<ArgumentException>(() => ResumeText.Issue(Key, Grant with { ResumedSession = null }, Now));
        Assert.ThrowsAny<ArgumentException>(() => ResumeText.Issue(Key, Grant with { Binding = null }, Now));
    }

    [Fact]
    public void ResumeWindow_OutsideItsRange_FailsValidationWithTheFix()
    {
        var validator = new TicketOptionsValidator(new TestOptions<TokenOptions>(new TokenOptions()));

        Assert.True(validator.Validate(null, new TicketOptions { ResumeWindow = TimeSpan.Zero }).Succeeded);
        Assert.True(validator.Validate(null, new TicketOptions { ResumeWindow = TimeSpan.FromMinutes(2) }).Succeeded);
        var tooShort = validator.Validate(null, new TicketOptions { ResumeWindow = TimeSpan.FromSeconds(5) });
        Assert.Contains("Tickets:ResumeWindow", tooShort.FailureMessage, StringComparison.Ordinal);
        Assert.False(validator.Validate(null, new TicketOptions { ResumeWindow = TimeSpan.FromHours(1) }).Succeeded);
    }
}
