using Microsoft.Extensions.Logging.Abstractions;
using OrleansVncCluster.Relay.Tickets;
using OrleansVncCluster.Relay.Tokens;

namespace OrleansVncCluster.Tests.Tickets;

public sealed class TicketKeyRingTests : IDisposable
{
    private const string OldSecret = "old-secret-0123456789-abcdefghijklmnopqrstu";
    private const string NewSecret = "new-secret-0123456789-abcdefghijklmnopqrstu";
    private static readonly DateTimeOffset RotatedAt = new(2026, 11, 23, 12, 0, 0, TimeSpan.Zero);
    private readonly SecretFiles _files = new();

    public void Dispose() => _files.Dispose();

    private static TicketOptions Options(string current, params string[] previous) => new()
    {
        SecretFile = current,
        PreviousSecretFiles = [.. previous],
        RotationGrace = TimeSpan.FromMinutes(15),
        ReloadInterval = TimeSpan.FromTicks(1),
    };

    private static TicketKeyRing Ring(TicketOptions options, TimeProvider clock) =>
        new(new TestOptions<TicketOptions>(options), clock, NullLogger<TicketKeyRing>.Instance);

    private static TicketStatus Open(TicketKeyRing ring, string ticket, TimeProvider clock) =>
        TicketText.Verify(ticket, ring.Find, clock.GetUtcNow(), out _);

    [Fact]
    public void AfterRotation_TicketsOfThePreviousSecretOpenDuringTheGrace()
    {
        var clock = new ManualClock(RotatedAt.AddMinutes(1));
        var current = _files.Write("ticket-secret", NewSecret, RotatedAt);
        var previous = _files.Write("ticket-secret.previous", OldSecret);
        var ring = Ring(Options(current, previous), clock);
        var oldTicket = TicketText.Issue(new TicketKey(OldSecret), "tok", "vm-binding", clock.Now.AddMinutes(1), singleUse: false);

        Assert.Equal(TicketStatus.Valid, Open(ring, oldTicket, clock));
        Assert.Equal(new TicketKey(NewSecret).Id, ring.SigningKey!.Id);
    }

    [Fact]
    public void AfterTheGrace_TicketsOfThePreviousSecretNameAnUnknownKey()
    {
        var clock = new ManualClock(RotatedAt.AddMinutes(14));
        var ring = Ring(Options(_files.Write("ticket-secret", NewSecret, RotatedAt), _files.Write("ticket-secret.previous", OldSecret)), clock);
        var oldTicket = TicketText.Issue(new TicketKey(OldSecret), "tok", "vm-binding", RotatedAt.AddHours(1), singleUse: false);
        Assert.Equal(TicketStatus.Valid, Open(ring, oldTicket, clock));

        clock.Now = RotatedAt.AddMinutes(15);

        Assert.Equal(TicketStatus.UnknownKey, Open(ring, oldTicket, clock));
    }

    [Fact]
    public void RewrittenSecretFile_IsPickedUpWithoutARestart()
    {
        var clock = new ManualClock(RotatedAt);
        var current = _files.Write("ticket-secret", OldSecret, RotatedAt.AddDays(-1));
        var ring = Ring(Options(current), clock);
        Assert.Equal(new TicketKey(OldSecret).Id, ring.SigningKey!.Id);

        _files.Write("ticket-secret", NewSecret, RotatedAt);

        Assert.Equal(new TicketKey(NewSecret).Id, ring.SigningKey!.Id);
        var fresh = TicketText.Issue(ring.SigningKey, "tok", "vm-binding", RotatedAt.AddMinutes(1), singleUse: false);
        Assert.Equal(TicketStatus.Valid, Open(ring, fresh, clock));
    }

    [Fact]
    public void TicketOfANewerKey_MakesTheRingRereadItsFilesAtOnce()
    {
        var clock = new ManualClock(RotatedAt);
        var current = _files.Write("ticket-secret", OldSecret, RotatedAt.AddDays(-1));
        var options = Options(current);
        options.ReloadInterval = TimeSpan.FromHours(1);
        var ring = Ring(options, clock);
        Assert.Equal(new TicketKey(OldSecret).Id, ring.SigningKey!.Id);

        _files.Write("ticket-secret", NewSecret, RotatedAt);
        var fromAnUpdatedNode = TicketText.Issue(new TicketKey(NewSecret), "tok", "vm-binding", RotatedAt.AddMinutes(1), singleUse: false);

        Assert.Equal(TicketStatus.Valid, Open(ring, fromAnUpdatedNode, clock));
        Assert.Equal(new TicketKey(NewSecret).Id, ring.SigningKey!.Id);
    }

    [Fact]
    public void SecretFileBrieflyMissing_KeepsTheKeysLoadedBefore()
    {
        var clock = new ManualClock(RotatedAt);
        var current = _files.Write("ticket-secret", OldSecret, RotatedAt);
        var ring = Ring(Options(current), clock);
        var id = ring.SigningKey!.Id;

        File.Delete(current);

        Assert.Equal(id, ring.SigningKey!.Id);
    }

    [Fact]
    public void InlineSecret_FromTheCredential_SignsAndVerifies()
    {
        var clock = new ManualClock(RotatedAt);
        var ring = Ring(new TicketOptions { Secret = NewSecret }, clock);

        var ticket = TicketText.Issue(ring.SigningKey!, "tok", "vm-binding", RotatedAt.AddMinutes(1), singleUse: false);

        Assert.Equal(TicketStatus.Valid, Open(ring, ticket, clock));
    }

    [Fact]
    public void Validator_SaysWhatToFix()
    {
        var validator = new TicketOptionsValidator(new TestOptions<TokenOptions>(new TokenOptions { AcceptPlainTokens = false }));
        var shortSecret = _files.Write("short", "too-short");

        var missing = validator.Validate(null, new TicketOptions { SecretFile = "/nonexistent/ticket-secret" });
        var tooShort = validator.Validate(null, new TicketOptions { SecretFile = shortSecret });
        var off = validator.Validate(null, new TicketOptions());
        var ttl = validator.Validate(null, new TicketOptions { Secret = NewSecret, DefaultTtl = TimeSpan.FromHours(1) });

        Assert.Contains(missing.Failures!, f => f.Contains("does not exist", StringComparison.Ordinal) && f.Contains("openssl rand", StringComparison.Ordinal));
        Assert.Contains(tooShort.Failures!, f => f.Contains("at least 32", StringComparison.Ordinal));
        Assert.Contains(off.Failures!, f => f.Contains("Tokens:AcceptPlainTokens", StringComparison.Ordinal));
        Assert.Contains(ttl.Failures!, f => f.Contains("Tickets:DefaultTtl", StringComparison.Ordinal));
        var tooLong = validator.Validate(null, new TicketOptions { Secret = NewSecret, MaxTtl = TimeSpan.FromHours(2), RotationGrace = TimeSpan.FromHours(2) });
        Assert.Contains(tooLong.Failures!, f => f.Contains("Tickets:MaxTtl", StringComparison.Ordinal) && f.Contains("Redis", StringComparison.Ordinal));
        Assert.True(validator.Validate(null, new TicketOptions { Secret = NewSecret }).Succeeded);
    }
}
