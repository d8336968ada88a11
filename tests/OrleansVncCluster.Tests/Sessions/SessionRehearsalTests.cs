using System.Net;
using Microsoft.AspNetCore.Http;
using OrleansVncCluster.Relay.Sessions;

namespace OrleansVncCluster.Tests.Sessions;

/// <summary>
/// A session is the node's own rehearsal only while the rehearsal runs, only from loopback and only with this process's
/// secret: anyone else who sends the header is an ordinary client, with its limits, its history record and its counters.
/// </summary>
public sealed class SessionRehearsalTests
{
    [Fact]
    public void TheSecretFromLoopback_IsARehearsal_OnlyWhileTheWindowIsOpen()
    {
        var rehearsal = new SessionRehearsal();
        var request = Request(IPAddress.Loopback, rehearsal.Secret);

        Assert.False(rehearsal.Recognizes(request), "not before the rehearsal began");
        using (rehearsal.Begin(IPAddress.Loopback))
        {
            Assert.True(rehearsal.Recognizes(request), "the secret from 127.0.0.1 while it runs");
            Assert.True(rehearsal.Recognizes(Request(IPAddress.IPv6Loopback, rehearsal.Secret)), "and from ::1");
        }

        Assert.False(rehearsal.Recognizes(request), "not after it ended");
    }

    [Fact]
    public void ANodeListeningOnItsOwnAddress_RecognisesItsRehearsalFromThatAddressOnly()
    {
        var rehearsal = new SessionRehearsal();
        using var window = rehearsal.Begin(IPAddress.Parse("198.51.100.4"));

        Assert.True(rehearsal.Recognizes(Request(IPAddress.Parse("198.51.100.4"), rehearsal.Secret)), "from the listener's address");
        Assert.False(rehearsal.Recognizes(Request(IPAddress.Parse("198.51.100.5"), rehearsal.Secret)), "not from a neighbour");
    }

    [Theory]
    [InlineData("192.0.2.7", true)]
    [InlineData("127.0.0.1", false)]
    public void AnotherPeerOrAnotherSecret_IsAnOrdinaryClient(string peer, bool rightSecret)
    {
        var rehearsal = new SessionRehearsal();
        var other = new SessionRehearsal();
        using var window = rehearsal.Begin(IPAddress.Loopback);

        var secret = rightSecret ? rehearsal.Secret : other.Secret;
        Assert.False(rehearsal.Recognizes(Request(IPAddress.Parse(peer), secret)));
        Assert.False(rehearsal.Recognizes(Request(IPAddress.Loopback, rehearsal.Secret[..^1])), "a truncated secret");
        Assert.False(rehearsal.Recognizes(Request(IPAddress.Loopback, null)), "no header");
        Assert.NotEqual(rehearsal.Secret, other.Secret);
    }

    private static DefaultHttpContext Request(IPAddress peer, string? secret)
    {
        var context = new DefaultHttpContext();
        context.Connection.RemoteIpAddress = peer;
        if (secret is not null)
        {
            context.Request.Headers[SessionRehearsal.Header] = secret;
        }

        return context;
    }
}
