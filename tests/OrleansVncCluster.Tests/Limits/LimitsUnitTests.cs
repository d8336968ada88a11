using System.Net;
using Microsoft.Extensions.Options;
using Orleans.Runtime;
using OrleansVncCluster.Relay.Admission;
using OrleansVncCluster.Relay.Cluster;
using OrleansVncCluster.Relay.Tokens;

namespace OrleansVncCluster.Tests.Limits;

public sealed class NetworksTests
{
    [Theory]
    [InlineData("10.20.0.0/16", "10.20.5.6", true)]
    [InlineData("10.20.0.0/16", "10.21.0.1", false)]
    [InlineData("10.20.0.0/16", "::ffff:10.20.5.6", true)]
    [InlineData("::ffff:10.20.0.0/112", "10.20.9.9", true)]
    [InlineData("::ffff:10.20.0.0/112", "10.21.9.9", false)]
    [InlineData("fd00::/8", "fd12:3456::1", true)]
    [InlineData("fd00::/8", "fe80::1", false)]
    [InlineData("fd00::/8", "10.0.0.1", false)]
    [InlineData("192.0.2.7", "192.0.2.7", true)]
    [InlineData("192.0.2.7", "192.0.2.8", false)]
    [InlineData("2001:db8::5", "2001:db8::5", true)]
    [InlineData("127.0.0.0/8", "::1", false)]
    public void Contains_MatchesIPv4IPv6AndMappedAddresses(string network, string address, bool expected)
    {
        Assert.True(Networks.TryParse(network, out var parsed));
        Assert.Equal(expected, Networks.Contains([parsed], IPAddress.Parse(address)));
    }

    [Theory]
    [InlineData("")]
    [InlineData("10.0.0.0/33")]
    [InlineData("vnc.example.com")]
    [InlineData("10.0.0/8x")]
    public void TryParse_RefusesWhatIsNotANetwork(string text) => Assert.False(Networks.TryParse(text, out _));

    [Theory]
    [InlineData("203.0.113.9", 64, "203.0.113.9")]
    [InlineData("::ffff:203.0.113.9", 64, "203.0.113.9")]
    [InlineData("2001:db8:1:2:aaaa:bbbb:cccc:dddd", 64, "2001:db8:1:2::/64")]
    [InlineData("2001:db8:1:2:aaaa:bbbb:cccc:dddd", 128, "2001:db8:1:2:aaaa:bbbb:cccc:dddd")]
    [InlineData("unknown", 64, "unknown")]
    public void ClientKey_CountsIPv4AddressesAndIPv6Prefixes(string client, int prefix, string expected) =>
        Assert.Equal(expected, Networks.ClientKey(client, prefix));

    [Fact]
    public void Validator_SaysWhatToFix()
    {
        var result = new LimitsOptionsValidator().Validate(null, new LimitsOptions
        {
            MaxSessionsPerClient = -1,
            HandshakesPerSecond = 10,
            HandshakeBurst = 5,
            AllowedTargetNetworks = ["10.0.0.0/8", "hypervisors"],
            LeaseTimeout = TimeSpan.Zero,
        });

        Assert.True(result.Failed);
        Assert.Contains(result.Failures!, f => f.StartsWith("Limits:MaxSessionsPerClient must be 0 (no limit) or positive", StringComparison.Ordinal));
        Assert.Contains(result.Failures!, f => f.Contains("Limits:HandshakeBurst 5 must be at least Limits:HandshakesPerSecond (10)", StringComparison.Ordinal));
        Assert.Contains(result.Failures!, f => f.Contains("'hypervisors' is not a network; write CIDR, e.g. 10.20.0.0/16", StringComparison.Ordinal));
        Assert.Contains(result.Failures!, f => f.StartsWith("Limits:LeaseTimeout", StringComparison.Ordinal));
        Assert.Equal(4, result.Failures!.Count());
        Assert.True(new LimitsOptionsValidator().Validate(null, new LimitsOptions()).Succeeded);
    }
}

public sealed class ClientRateLimitsTests
{
    [Fact]
    public void Handshakes_AreCountedPerClientAddress()
    {
        using var limits = new ClientRateLimits(new FixedOptions<LimitsOptions>(new LimitsOptions { HandshakesPerSecond = 1, HandshakeBurst = 3 }));

        var first = Enumerable.Range(0, 3).Select(_ => limits.TryHandshake("192.0.2.1")).ToList();
        var fourth = limits.TryHandshake("192.0.2.1");
        var other = limits.TryHandshake("192.0.2.2");

        Assert.All(first, wait => Assert.Null(wait));
        Assert.NotNull(fourth);
        Assert.InRange(fourth.Value, TimeSpan.FromMilliseconds(1), TimeSpan.FromSeconds(1));
        Assert.Null(other);
    }

    [Fact]
    public void FailedTokens_BlockTheAddressAfterTheLimit_AndFlagTheCrossingOnce()
    {
        using var limits = new ClientRateLimits(new FixedOptions<LimitsOptions>(new LimitsOptions { MaxFailedTokens = 3, FailedTokenWindow = TimeSpan.FromMinutes(5) }));

        var crossings = Enumerable.Range(0, 3).Select(_ => limits.RecordFailedToken("198.51.100.7")).ToList();
        var blocked = limits.FailedTokensBlocked("198.51.100.7");
        var afterwards = limits.RecordFailedToken("198.51.100.7");

        Assert.Equal([false, false, true], crossings);
        Assert.NotNull(blocked);
        Assert.InRange(blocked.Value, TimeSpan.FromSeconds(1), TimeSpan.FromMinutes(5));
        Assert.False(afterwards);
        Assert.Null(limits.FailedTokensBlocked("198.51.100.8"));
    }

    [Fact]
    public async Task FailedTokens_AreAlsoCountedPerIPv6Site_SoHoppingBetweenSlash64sOfOneSlash48IsLockedOut()
    {
        var options = new FixedOptions<LimitsOptions>(new LimitsOptions { MaxFailedTokens = 3, MaxFailedTokensPerIPv6Site = 5, FailedTokenWindow = TimeSpan.FromMinutes(5) });
        using var limits = new ClientRateLimits(options);
        var check = new ClientRateCheck(limits, options, Microsoft.Extensions.Logging.Abstractions.NullLogger<ClientRateCheck>.Instance);
        var unknown = new Refusal(CloseReasons.UnknownToken, CloseReasons.UnknownTokenText, "unknown_token");

        async Task<Refusal?> PresentAsync(string client, bool fails)
        {
            var context = new AdmissionContext(client, "guess", "", "relay") { ClientKey = Networks.ClientKey(client, 64) };
            var refused = await check.CheckAsync(context, CancellationToken.None);
            if (refused is null && fails)
            {
                context.Refused(unknown);
            }

            return refused;
        }

        // Five /64s of one /48, one guess each: no /64 reaches its own limit of 3.
        for (var subnet = 0; subnet < 5; subnet++)
        {
            Assert.Null(await PresentAsync($"2001:db8:1:{subnet:x}::1", fails: true));
        }

        var sixthSlash64 = await PresentAsync("2001:db8:1:ff::1", fails: false);
        var otherSite = await PresentAsync("2001:db8:2::1", fails: false);
        var ipv4 = await PresentAsync("198.51.100.20", fails: false);

        Assert.Equal((CloseReasons.TooMany, LimitReasons.FailedTokenRate), (sixthSlash64!.Value.Status, sixthSlash64.Value.Metric));
        Assert.Null(otherSite);
        Assert.Null(ipv4);
        Assert.Equal("2001:db8:1::/48", Networks.SiteKey("2001:db8:1:ff::1"));
        Assert.Null(Networks.SiteKey("::ffff:198.51.100.20"));
    }

    [Fact]
    public void CheckingForABlock_TakesNoPermit()
    {
        using var limits = new ClientRateLimits(new FixedOptions<LimitsOptions>(new LimitsOptions { MaxFailedTokens = 1 }));

        for (var i = 0; i < 10; i++)
        {
            Assert.Null(limits.FailedTokensBlocked("192.0.2.9"));
        }

        Assert.True(limits.RecordFailedToken("192.0.2.9"));
    }

    [Fact]
    public void ZeroTurnsTheRatesOff()
    {
        using var limits = new ClientRateLimits(new FixedOptions<LimitsOptions>(new LimitsOptions { HandshakesPerSecond = 0, MaxFailedTokens = 0 }));

        for (var i = 0; i < 100; i++)
        {
            Assert.Null(limits.TryHandshake("192.0.2.1"));
            Assert.False(limits.RecordFailedToken("192.0.2.1"));
        }

        Assert.Null(limits.FailedTokensBlocked("192.0.2.1"));
    }
}

public sealed class TargetPolicyTests
{
    private static TargetPolicy Policy(params string[] networks) =>
        new(new FixedOptions<LimitsOptions>(new LimitsOptions { AllowedTargetNetworks = [.. networks] }), ownPorts: [6080, 8082, 11111], ownAddresses: [IPAddress.Parse("10.0.0.5")]);

    [Theory]
    [InlineData("10.20.1.2", 5901, TargetVerdict.Allowed)]
    [InlineData("10.30.1.2", 5901, TargetVerdict.NotAllowed)]
    [InlineData("::ffff:10.20.1.2", 5901, TargetVerdict.Allowed)]
    [InlineData("127.0.0.1", 6379, TargetVerdict.NotAllowed)]
    [InlineData("10.0.0.5", 11111, TargetVerdict.OwnEndpoint)]
    [InlineData("10.0.0.5", 5901, TargetVerdict.Allowed)]
    public void Check_AllowsOnlyListedNetworks_AndNeverTheNodesOwnPorts(string address, int port, TargetVerdict expected) =>
        Assert.Equal(expected, Policy("10.20.0.0/16", "10.0.0.0/24").Check([IPAddress.Parse(address)], port).Verdict);

    [Fact]
    public void Check_RefusesLoopbackOwnPorts_EvenWhenLoopbackIsAllowed()
    {
        var policy = Policy("127.0.0.0/8");

        Assert.Equal(TargetVerdict.OwnEndpoint, policy.Check([IPAddress.Parse("127.0.0.1")], 8082).Verdict);
        Assert.Equal(TargetVerdict.Allowed, policy.Check([IPAddress.Parse("127.0.0.1")], 5901).Verdict);
    }

    [Fact]
    public async Task HostNames_AreResolvedAndEveryAddressMustBeAllowed()
    {
        var addresses = await Dns.GetHostAddressesAsync("localhost", TestContext.Current.CancellationToken);
        var onlyIPv4 = Policy("127.0.0.0/8");
        var both = Policy("127.0.0.0/8", "::1/128");

        var (v4Verdict, _, offending) = await onlyIPv4.CheckAsync(ConsoleTarget.Tcp("localhost", 5901), TestContext.Current.CancellationToken);
        var (verdict, dialled, _) = await both.CheckAsync(ConsoleTarget.Tcp("localhost", 5901), TestContext.Current.CancellationToken);

        Assert.Equal(addresses.Any(a => a.Equals(IPAddress.IPv6Loopback)) ? TargetVerdict.NotAllowed : TargetVerdict.Allowed, v4Verdict);
        Assert.Equal(addresses.Any(a => a.Equals(IPAddress.IPv6Loopback)) ? IPAddress.IPv6Loopback : null, offending);
        Assert.Equal(TargetVerdict.Allowed, verdict);
        Assert.True(IPAddress.TryParse(dialled.Host, out _), $"the checked address is dialled, not the name again: {dialled}");
    }

    [Theory]
    [InlineData("127.0.0.1", 8082, TargetVerdict.OwnEndpoint)]
    [InlineData("169.254.169.254", 80, TargetVerdict.Reserved)]
    [InlineData("0.0.0.0", 5901, TargetVerdict.Reserved)]
    [InlineData("0.1.2.3", 5901, TargetVerdict.Reserved)]
    [InlineData("::", 5901, TargetVerdict.Reserved)]
    [InlineData("fe80::1", 5901, TargetVerdict.Reserved)]
    [InlineData("224.0.0.1", 5901, TargetVerdict.Reserved)]
    [InlineData("ff02::1", 5901, TargetVerdict.Reserved)]
    [InlineData("255.255.255.255", 5901, TargetVerdict.Reserved)]
    [InlineData("127.0.0.1", 5901, TargetVerdict.Allowed)]
    [InlineData("10.30.1.2", 5901, TargetVerdict.Allowed)]
    public async Task NoAllowList_StillRefusesReservedAddressesAndOwnPorts(string address, int port, TargetVerdict expected)
    {
        var policy = new TargetPolicy(new FixedOptions<LimitsOptions>(new LimitsOptions()), ownPorts: [8082], ownAddresses: []);

        var (verdict, _, _) = await policy.CheckAsync(ConsoleTarget.Tcp(address, port), TestContext.Current.CancellationToken);

        Assert.Equal(expected, verdict);
    }

    [Fact]
    public void ReservedAddresses_AreRefusedEvenWhenTheAllowListCoversThem() =>
        Assert.Equal(TargetVerdict.Reserved, Policy("0.0.0.0/0").Check([IPAddress.Parse("169.254.169.254")], 80).Verdict);
}

public sealed class LeaseBookTests
{
    private static readonly SiloAddress NodeA = SiloAddress.New(IPAddress.Loopback, 11111, 1);
    private static readonly SiloAddress NodeB = SiloAddress.New(IPAddress.Loopback, 11112, 1);
    private static readonly DateTimeOffset Now = new(2025, 1, 1, 0, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Leases_CountUpToTheMax_AndReleaseFreesASlot()
    {
        var book = new LeaseBook();
        SiloStatus Alive(SiloAddress _) => SiloStatus.Active;

        Assert.True(book.TryAcquire("s1", NodeA, 2, Alive, Now));
        Assert.True(book.TryAcquire("s2", NodeB, 2, Alive, Now));
        Assert.False(book.TryAcquire("s3", NodeA, 2, Alive, Now));
        Assert.True(book.TryAcquire("s1", NodeA, 2, Alive, Now));
        Assert.True(book.Release("s1"));
        Assert.True(book.TryAcquire("s3", NodeA, 2, Alive, Now));
        Assert.Equal(2, book.Count);
    }

    [Fact]
    public void ADeadNodesLeases_StopCounting()
    {
        var book = new LeaseBook();
        var bDead = false;
        SiloStatus Status(SiloAddress silo) => silo.Equals(NodeB) && bDead ? SiloStatus.Dead : SiloStatus.Active;
        book.TryAcquire("a1", NodeA, 2, Status, Now);
        book.TryAcquire("b1", NodeB, 2, Status, Now);
        Assert.False(book.TryAcquire("a2", NodeA, 2, Status, Now));

        bDead = true;

        Assert.True(book.TryAcquire("a2", NodeA, 2, Status, Now));
        Assert.False(book.Release("b1"));
    }

    [Fact]
    public void ANodeMembershipDoesNotKnow_IsTrustedForAGracePeriod()
    {
        var book = new LeaseBook();
        static SiloStatus Unknown(SiloAddress _) => SiloStatus.None;
        book.TryAcquire("new", NodeB, 1, Unknown, Now);

        Assert.False(book.TryAcquire("x", NodeA, 1, Unknown, Now + TimeSpan.FromSeconds(30)));
        Assert.True(book.TryAcquire("x", NodeA, 1, Unknown, Now + LeaseBook.UnknownNodeGrace + TimeSpan.FromSeconds(1)));
    }

    [Fact]
    public void Owner_SeesTheOtherViewSessions_NotItselfNorOtherControllers()
    {
        var book = new LeaseBook();
        SiloStatus Alive(SiloAddress _) => SiloStatus.Active;
        book.TryAcquire("owner", NodeA, int.MaxValue, Alive, Now);
        book.TryAcquire("second-owner", NodeB, int.MaxValue, Alive, Now);
        book.TryAcquire("viewer-1", NodeA, int.MaxValue, Alive, Now, viewOnly: true);
        book.TryAcquire("viewer-2", NodeB, int.MaxValue, Alive, Now, viewOnly: true);

        Assert.Equal(new LeasePresence(true, 2, 4), book.Presence("owner", Alive, Now));
        Assert.Equal(new LeasePresence(true, 1, 4), book.Presence("viewer-1", Alive, Now));
    }

    [Fact]
    public void AnEndedSession_OrOneOnADeadNode_IsNotLive()
    {
        var book = new LeaseBook();
        var bDead = false;
        SiloStatus Status(SiloAddress silo) => silo.Equals(NodeB) && bDead ? SiloStatus.Dead : SiloStatus.Active;
        book.TryAcquire("ended", NodeA, 10, Status, Now);
        book.TryAcquire("on-b", NodeB, 10, Status, Now, viewOnly: true);
        book.Release("ended");

        Assert.False(book.Presence("ended", Status, Now).Live);
        Assert.True(book.Presence("on-b", Status, Now).Live);
        bDead = true;
        Assert.Equal(new LeasePresence(false, 0, 0), book.Presence("on-b", Status, Now));
    }
}
