using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using OrleansVncCluster.Relay.Admission;
using OrleansVncCluster.Relay.Tickets;
using OrleansVncCluster.Relay.Tokens;
using OrleansVncCluster.Tests.Sessions;
using OrleansVncCluster.Tests.Tickets;

namespace OrleansVncCluster.Tests.Admission;

/// <summary>
/// After a token lookup found the token's grain silent (its silo was just killed), the checks after it do not call that
/// grain again (issue 17: each call waits out Orleans' retries, about a second, and a resuming console page made three in
/// a row). No grain factory is given: a call would throw.
/// </summary>
public sealed class SilentTokenGrainTests
{
    private static readonly ConsoleTokenEntry Entry = new() { Target = ConsoleTarget.Tcp("10.0.0.1", 5901), Source = "test" };

    [Theory]
    [InlineData("closed", true)]
    [InlineData("another", false)]
    public async Task AResume_IsDecidedFromTheRecordTheLookupRead(string resumed, bool refused)
    {
        var state = new TokenState { Entry = Entry, ClosedSessions = new() { ["closed"] = DateTimeOffset.UtcNow.AddMinutes(2) } };
        var context = Context(resumed, new StoredTokenRead(true, Entry, state));
        var check = new ResumeCheck(null!, new StoredTokens(new ServiceCollection().BuildServiceProvider(), null!), TimeProvider.System,
            new TestOptions<LimitsOptions>(new LimitsOptions()), NullLogger<ResumeCheck>.Instance);

        var refusal = await check.CheckAsync(context, CancellationToken.None);

        Assert.Equal(refused, refusal is { Status: CloseReasons.TicketExpired, Metric: "resume_closed_by_admin" });
        Assert.Equal(refused, refusal is not null);
    }

    [Fact]
    public async Task AResume_WhoseRecordSaysNothing_StaysRefusedForNow()
    {
        var context = Context("closed", new StoredTokenRead(true, null));
        var check = new ResumeCheck(null!, new StoredTokens(new ServiceCollection().BuildServiceProvider(), null!), TimeProvider.System,
            new TestOptions<LimitsOptions>(new LimitsOptions()), NullLogger<ResumeCheck>.Instance);

        var refusal = await check.CheckAsync(context, CancellationToken.None);

        Assert.Equal((CloseReasons.TryAgainLater, "resume_unanswered"), (refusal?.Status, refusal?.Metric));
    }

    [Fact]
    public async Task TheTokenLease_IsNotAsked_AndTheSessionIsAdmitted()
    {
        var check = new LeaseCheck(null!, new FakeSilo(), new TestOptions<LimitsOptions>(new LimitsOptions { MaxSessionsPerToken = 2, MaxSessionsPerClient = 0 }),
            new TestOptions<TicketOptions>(new TicketOptions { ResumeWindow = TimeSpan.FromMinutes(2) }), NullLogger<LeaseCheck>.Instance);

        Assert.Null(await check.CheckAsync(Context("s", null), CancellationToken.None));
    }

    private static AdmissionContext Context(string resumed, StoredTokenRead? stored) =>
        new("192.0.2.1", null, "https://portal.example", "relay.example")
        {
            Ticket = new Presented("tok", new ConsoleTicket("key", "tok", DateTimeOffset.UtcNow.AddMinutes(1), "nonce", SingleUse: false) { ResumedSession = resumed }, null),
            TokenGrainUnanswered = true,
            StoredToken = stored,
        };
}
