using OrleansVncCluster.Relay.Tokens;

namespace OrleansVncCluster.Tests.Tokens;

/// <summary>What a lookup answers from a token's stored state when its grain's silo died and was not declared dead yet (issue 17).</summary>
public sealed class StorageFallbackTests
{
    private static readonly ConsoleTokenEntry Stored = new() { Target = ConsoleTarget.Tcp("10.0.0.1", 5901), Source = "test" };

    [Fact]
    public void AStoredEntry_AdmitsTheTokenWithThatEntry()
    {
        var read = new StoredTokenRead(true, Stored);
        var answer = StorageFallback.Decide(read, revokedSinceAsked: false);

        Assert.Equal(new TokenLookup(LookupStatus.Found, Stored, GrainUnanswered: true, Stored: read), answer);
    }

    [Fact]
    public void ATokenRevokedSinceTheLookupBegan_StaysRefused_ThoughItsReadStillFoundIt()
    {
        var answer = StorageFallback.Decide(new StoredTokenRead(true, Stored), revokedSinceAsked: true);

        Assert.Equal(LookupStatus.Unavailable, answer.Status);
        Assert.Null(answer.Entry);
    }

    [Fact]
    public void NoStoredRecord_LeavesTheLookupUnavailable_NotUnknown()
    {
        var answer = StorageFallback.Decide(new StoredTokenRead(true, null), revokedSinceAsked: false);

        Assert.Equal(new TokenLookup(LookupStatus.Unavailable, null, GrainUnanswered: true), answer);
    }

    [Fact]
    public void AFailedRead_LeavesTheLookupUnavailable()
    {
        Assert.Equal(new TokenLookup(LookupStatus.Unavailable, null, GrainUnanswered: true), StorageFallback.Decide(StoredTokenRead.Failed, revokedSinceAsked: false));
    }

    [Fact]
    public void AResume_IsDecidedFromTheStoredCloses_WhileTheirWindowLasts()
    {
        var now = DateTimeOffset.UtcNow;
        var state = new TokenState { Entry = Stored, ClosedSessions = new() { ["closed"] = now.AddMinutes(2) } };
        var read = new StoredTokenRead(true, Stored, state);

        Assert.Equal(false, StorageFallback.MayResume(read, "closed", now));
        Assert.Equal(true, StorageFallback.MayResume(read, "closed", now.AddMinutes(2)));
        Assert.Equal(true, StorageFallback.MayResume(read, "other", now));
        Assert.Equal(true, StorageFallback.MayResume(new StoredTokenRead(true, Stored, new TokenState { Entry = Stored }), "closed", now));
    }

    [Fact]
    public void AResume_StaysUndecided_WhenTheReadFailedOrFoundNoEntry()
    {
        var now = DateTimeOffset.UtcNow;

        Assert.Null(StorageFallback.MayResume(StoredTokenRead.Failed, "s", now));
        Assert.Null(StorageFallback.MayResume(new StoredTokenRead(true, null), "s", now));
        Assert.Null(StorageFallback.MayResume(new StoredTokenRead(true, null, new TokenState()), "s", now));
    }
}
