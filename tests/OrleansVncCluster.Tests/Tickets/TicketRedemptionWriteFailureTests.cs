using OrleansVncCluster.Relay.Tickets;
using OrleansVncCluster.Tests.Tokens;

namespace OrleansVncCluster.Tests.Tickets;

/// <summary>
/// A failed write of a redemption record leaves the single-use ticket usable (issue 12, item 11). It did not: the grain
/// marked the ticket redeemed in memory before the write, so the user's retry, once storage answered again, was told
/// "already used" although no session had ever opened with the ticket.
/// </summary>
public sealed class TicketRedemptionWriteFailureTests(FlakyStorageClusterFixture fixture) : IClassFixture<FlakyStorageClusterFixture>
{
    [Fact]
    public async Task AFailedWrite_RefusesThisAttempt_AndTheRetryRedeemsTheTicket()
    {
        var nonce = "flaky-" + Guid.NewGuid().ToString("N");
        var grain = fixture.Grains.GetGrain<ITicketRedemptionGrain>(nonce);
        var expiresAt = DateTimeOffset.UtcNow.AddMinutes(1);
        FlakyStorage.FailNextWrite($"ticketredemption/{nonce}");

        await Assert.ThrowsAnyAsync<Exception>(() => grain.TryRedeemAsync(expiresAt, "first"));
        Assert.False(FlakyStorage.Holds($"ticketredemption/{nonce}"));

        Assert.Equal(RedemptionAnswer.Redeemed, await grain.TryRedeemAsync(expiresAt, "retry"));
        Assert.True(FlakyStorage.Holds($"ticketredemption/{nonce}"));
        Assert.Equal(RedemptionAnswer.AlreadyUsed, await grain.TryRedeemAsync(expiresAt, "replay"));
    }
}
