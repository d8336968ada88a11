using OrleansVncCluster.Relay.Abiquo;
using OrleansVncCluster.Relay.Tokens;

namespace OrleansVncCluster.Tests.Abiquo;

/// <summary>The start-up rehearsal's made-up sync load: it goes through the client, the builder and the plan as a sync
/// does, and meets new, changed and removed tokens (its end, cancelled mid-read, runs in the integration tests).</summary>
public sealed class AbiquoRehearsalTests
{
    private const int Vms = AbiquoRehearsal.Enterprises * AbiquoRehearsal.VmsPerEnterprise;

    [Fact]
    public async Task EachRoundReadsEveryPageOfEveryEnterprise_AndTheNextRoundsChangeAndRemoveSomeTokens()
    {
        var plans = new List<TokenPlan>();
        using var stop = new CancellationTokenSource();

        var rounds = await AbiquoRehearsal.RunAsync(plan =>
        {
            plans.Add(plan);
            if (plans.Count == 3)
            {
                stop.Cancel();
            }
        }, stop.Token);

        Assert.Equal(3, rounds);
        // Every VM of every page has a console of its own: the first round writes them all.
        Assert.Equal(Vms, plans[0].Upserts.Count);
        Assert.Empty(plans[0].Removals);
        Assert.Equal(Vms, plans[0].NewIndex.Count);
        foreach (var plan in plans.Skip(1))
        {
            // A re-sync: most tokens unchanged (reused), every 37th VM on a new port (a new token, the old one removed),
            // every 53rd turned off or on again.
            Assert.InRange(plan.Unchanged, Vms * 9 / 10, Vms - 1);
            Assert.NotEmpty(plan.Removals);
            Assert.Contains(plan.Upserts.Keys, token => !plan.PreviousIndex.ContainsKey(token));
            Assert.Equal(Vms, plan.NewIndex.Count);
        }
    }
}
