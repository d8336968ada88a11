using OrleansVncCluster.Relay.Tickets;

namespace OrleansVncCluster.Tests.Tickets;

/// <summary>The playback ticket (issue 14): sealed under its own key, naming one recording, never taken for a console
/// ticket or a resume credential, nor they for it.</summary>
public sealed class PlaybackTextTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 2, 12, 0, 0, TimeSpan.Zero);
    private static readonly TicketKey Key = new("current-secret-0123456789-abcdefghijklmnop");
    private static readonly TicketKey OtherKey = new("another-cluster-secret-0123456789-abcdefgh");

    private static TicketStatus Verify(string? text, out PlaybackGrant? grant, DateTimeOffset? at = null) =>
        PlaybackText.Verify(text, id => id == Key.Id ? Key : null, at ?? Now, out grant);

    [Fact]
    public void IssuedTicket_OpensAsItsRecording_AndHidesIt()
    {
        var text = PlaybackText.Issue(Key, "rec-0042", "auditor", Now.AddMinutes(10));

        Assert.Equal(TicketStatus.Valid, Verify(text, out var grant));
        Assert.StartsWith($"vp1.{Key.Id}.", text, StringComparison.Ordinal);
        Assert.Equal(new PlaybackGrant("rec-0042", "auditor", Now.AddMinutes(10)), grant);
        Assert.DoesNotContain("rec-0042", text, StringComparison.Ordinal);
    }

    [Fact]
    public void ExpiredTicket_IsRefusedAsExpired()
    {
        var text = PlaybackText.Issue(Key, "rec-0042", null, Now.AddSeconds(-1));

        Assert.Equal(TicketStatus.Expired, Verify(text, out _));
    }

    [Fact]
    public void TicketOfAnotherSecret_IsAnUnknownKey()
    {
        Assert.Equal(TicketStatus.UnknownKey, Verify(PlaybackText.Issue(OtherKey, "rec-0042", null, Now.AddMinutes(1)), out var grant));
        Assert.Null(grant);
    }

    [Fact]
    public void ConsoleTicketOrResumeCredential_DoesNotOpenAsAPlaybackTicket_EvenWithItsPrefix()
    {
        var console = TicketText.Issue(Key, "2e843805d056a266227cbb6b699a7ee0", "binding", Now.AddMinutes(1), singleUse: false, viewOnly: false, null, null,
            ClipboardDirections.Both);
        var relabelled = PlaybackText.Prefix + console[(console.IndexOf('.', StringComparison.Ordinal) + 1)..];

        Assert.Equal(TicketStatus.Malformed, Verify(console, out _));
        Assert.Equal(TicketStatus.BadSignature, Verify(relabelled, out _));
    }

    [Fact]
    public void PlaybackTicket_DoesNotOpenAsAConsoleTicketOrAResumeCredential()
    {
        var text = PlaybackText.Issue(Key, "rec-0042", null, Now.AddMinutes(1));
        var asResume = ResumeText.Prefix + text[PlaybackText.Prefix.Length..];

        Assert.False(TicketText.LooksLikeTicket(text));
        Assert.NotEqual(TicketStatus.Valid, TicketText.Verify(text, id => id == Key.Id ? Key : null, Now, out _));
        Assert.Equal(TicketStatus.BadSignature, ResumeText.Verify(asResume, id => id == Key.Id ? Key : null, Now, out _));
    }

    [Fact]
    public void AlteredTicket_IsRefused()
    {
        var text = PlaybackText.Issue(Key, "rec-0042", null, Now.AddMinutes(1));
        var altered = text[..^2] + (text[^2] == 'A' ? 'B' : 'A') + text[^1];

        Assert.Equal(TicketStatus.BadSignature, Verify(altered, out var grant));
        Assert.Null(grant);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("vp1.")]
    [InlineData("vp1.short.x")]
    [InlineData("vr1.abcdefgh.AAAA")]
    public void Garbage_IsMalformedOrUnknown_NeverThrows(string? text)
    {
        Assert.NotEqual(TicketStatus.Valid, Verify(text, out var grant));
        Assert.Null(grant);
    }
}
