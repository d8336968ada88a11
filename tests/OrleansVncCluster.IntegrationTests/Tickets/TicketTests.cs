using System.Net;
using System.Net.WebSockets;
using System.Security.Cryptography;
using System.Text.Json;
using OrleansVncCluster.IntegrationTests.Infrastructure;

namespace OrleansVncCluster.IntegrationTests.Tickets;

/// <summary>Signed console tickets across two nodes and HAProxy: what opens, what is refused, and what the client reads.</summary>
public sealed class TicketTests(TicketClusterFixture fixture) : IClassFixture<TicketClusterFixture>
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(15);

    [Fact]
    public async Task TicketIssuedOnNodeA_OpensThroughHaproxy_AndDirectlyOnNodeB()
    {
        var ticket = await fixture.TicketAsync();

        await using var throughHaproxy = await ConsoleClient.ConnectAsync(fixture.HaproxySocket($"ticket={ticket}"));
        await using var onNodeB = await ConsoleClient.ConnectAsync(fixture.NodeB.WebSocketUri(ticket));

        await AssertEchoesAsync(throughHaproxy);
        await AssertEchoesAsync(onNodeB);
    }

    [Fact]
    public async Task ExpiredTicket_IsRefusedWithItsReason()
    {
        var expired = TicketMint.Issue(TicketClusterFixture.Secret, fixture.Token, fixture.EchoBinding, DateTimeOffset.UtcNow.AddSeconds(-5));

        var (status, reason) = await RefusalAsync(fixture.HaproxySocket($"ticket={expired}"));

        Assert.Equal((WebSocketCloseStatus)4419, status);
        Assert.Equal("console ticket expired: ask the portal for a new console link", reason);
    }

    [Fact]
    public async Task TamperedTicket_IsRefusedWithItsReason()
    {
        var tampered = TicketMint.Tamper(await fixture.TicketAsync());

        var (status, reason) = await RefusalAsync(fixture.NodeB.WebSocketUri(tampered));

        Assert.Equal((WebSocketCloseStatus)4401, status);
        Assert.Equal("console ticket signature is not valid: the link was altered", reason);
    }

    [Fact]
    public async Task TicketSignedWithAnotherSecret_IsRefusedAsAnUnknownKey()
    {
        var foreign = TicketMint.Issue("some-other-cluster-secret-0123456789-abcdef", fixture.Token, fixture.EchoBinding, DateTimeOffset.UtcNow.AddMinutes(1));

        var (status, reason) = await RefusalAsync(fixture.HaproxySocket($"ticket={foreign}"));

        Assert.Equal((WebSocketCloseStatus)4421, status);
        Assert.Equal("console ticket signed with an unknown or retired key", reason);
    }

    [Fact]
    public async Task SingleUseTicket_OpensOnceOnNodeA_AndIsRefusedAsReplayedOnNodeBAndThroughHaproxy()
    {
        var ticket = await fixture.TicketAsync(singleUse: true);

        await using var first = await ConsoleClient.ConnectAsync(fixture.NodeA.WebSocketUri(ticket));
        await AssertEchoesAsync(first);
        var onNodeB = await RefusalAsync(fixture.NodeB.WebSocketUri(ticket));
        var throughHaproxy = await RefusalAsync(fixture.HaproxySocket($"ticket={ticket}"));

        Assert.Equal(((WebSocketCloseStatus)4409, "console ticket already used: it opens one console only"), onNodeB);
        Assert.Equal(onNodeB, throughHaproxy);
        await AssertEchoesAsync(first);
    }

    [Fact]
    public async Task TicketMintedFromTheDocumentedFormat_Opens()
    {
        var minted = TicketMint.Issue(TicketClusterFixture.Secret, fixture.Token, fixture.EchoBinding, DateTimeOffset.UtcNow.AddMinutes(1));

        await using var client = await ConsoleClient.ConnectAsync(fixture.HaproxySocket($"ticket={minted}"));

        await AssertEchoesAsync(client);
    }

    [Fact]
    public async Task TicketForAnotherTokenEntry_IsRefusedAsAnotherVm()
    {
        // Sealed for the echo token's entry, presented for a token that leads elsewhere: what an address reused by
        // another VM looks like to the relay.
        var misbound = TicketMint.Issue(TicketClusterFixture.Secret, fixture.DeadToken, fixture.EchoBinding, DateTimeOffset.UtcNow.AddMinutes(1), singleUse: true);

        var refusal = await RefusalAsync(fixture.NodeB.WebSocketUri(misbound));

        Assert.Equal(((WebSocketCloseStatus)4412, "console ticket is for another VM: this console address now belongs to a different VM"), refusal);
    }

    [Fact]
    public async Task SingleUseTicket_RefusedByTheTargetPolicy_IsNotSpent()
    {
        var ticket = await fixture.TicketAsync(singleUse: true, token: fixture.ReservedToken);

        var first = await RefusalAsync(fixture.NodeA.WebSocketUri(ticket));
        var second = await RefusalAsync(fixture.NodeB.WebSocketUri(ticket));

        // Redemption is the last admission step: the retry meets the same policy refusal, not "already used".
        Assert.Equal((WebSocketCloseStatus)4403, first.Status);
        Assert.Equal(first, second);
    }

    [Fact]
    public async Task SingleUseTicket_WhoseVmDoesNotAnswer_IsGivenBackForTheRetry()
    {
        var ticket = await fixture.TicketAsync(singleUse: true, token: fixture.DeadToken);

        var first = await RefusalAsync(fixture.NodeA.WebSocketUri(ticket));
        var second = await RefusalAsync(fixture.NodeB.WebSocketUri(ticket));

        Assert.Equal(((WebSocketCloseStatus)1011, "console target refused the connection"), first);
        Assert.Equal(first, second);
    }

    [Fact]
    public async Task IssueEndpoint_CarriesTheUser_AndTheSessionListShowsIt()
    {
        var user = "alice-" + Guid.NewGuid().ToString("N")[..6];
        using var response = await TicketClusterFixture.IssueAsync(fixture.NodeA, new { token = fixture.Token, user });
        using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var ticket = document.RootElement.GetProperty("ticket").GetString()!;
        Assert.True(document.RootElement.GetProperty("singleUse").GetBoolean(), "tickets are single-use by default");
        Assert.DoesNotContain(user, ticket, StringComparison.Ordinal);

        await using var client = await ConsoleClient.ConnectAsync(fixture.NodeB.WebSocketUri(ticket));
        await AssertEchoesAsync(client);
        using var admin = fixture.NodeB.AdminClient();
        // Once: a node is ready only when the node directory lists it (before that, in a CI-like run, the list once
        // answered {"nodes":["ticket-a"],"sessions":[]}).
        var sessions = await admin.GetStringAsync(new Uri("/api/sessions", UriKind.Relative));

        Assert.Contains($"\"user\":\"{user}\"", sessions, StringComparison.Ordinal);
    }

    [Fact]
    public async Task IssueEndpoint_ByVmAlone_ForATokenFileVm_Is404WithAReason()
    {
        using var response = await TicketClusterFixture.IssueAsync(fixture.NodeA, new { vm = "4711" });

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Contains("No console is known for VM 4711", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task SingleUseRedemption_IsARedisKeyThatExpiresByItself()
    {
        var ticket = await fixture.TicketAsync(singleUse: true);
        await using (var session = await ConsoleClient.ConnectAsync(fixture.NodeA.WebSocketUri(ticket)))
        {
            await AssertEchoesAsync(session);
        }

        var keys = await StoredTokens.KeysAsync(fixture.Redis.ConnectionString, $"{fixture.ServiceId}/state/ticketredemption/*");
        Assert.NotEmpty(keys);
        using var redis = await StackExchange.Redis.ConnectionMultiplexer.ConnectAsync(fixture.Redis.ConnectionString);
        foreach (var key in keys)
        {
            // Orleans' EntryExpiry on the "tickets" storage: 65 min after the write, whatever happens to the grain.
            var ttl = await redis.GetDatabase().KeyTimeToLiveAsync(key);
            Assert.True(ttl is { } left && left > TimeSpan.Zero && left <= TimeSpan.FromMinutes(65), $"{key} expires in {ttl?.ToString() ?? "never"}");
        }
    }

    [Fact]
    public async Task PlainToken_IsRefusedWhenTurnedOff_TellingToUseATicket()
    {
        var (status, reason) = await RefusalAsync(fixture.HaproxySocket($"token={fixture.Token}"));

        Assert.Equal((WebSocketCloseStatus)4426, status);
        Assert.Equal("plain console tokens are turned off: open the console with a ticket", reason);
    }

    [Fact]
    public async Task IssueEndpoint_AnswersTheTicketItsExpiryAndAConsoleUrl()
    {
        var before = DateTimeOffset.UtcNow;
        using var response = await TicketClusterFixture.IssueAsync(fixture.NodeB, new { token = fixture.Token, ttlSeconds = 30, singleUse = true });
        using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var root = document.RootElement;

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var ticket = root.GetProperty("ticket").GetString()!;
        Assert.StartsWith("vt2.", ticket, StringComparison.Ordinal);
        Assert.DoesNotContain(fixture.Token, ticket, StringComparison.Ordinal);
        Assert.InRange(root.GetProperty("expiresAt").GetDateTimeOffset(), before.AddSeconds(28), before.AddSeconds(32));
        Assert.True(root.GetProperty("singleUse").GetBoolean());
        Assert.Equal($"/console#ticket={ticket}", root.GetProperty("consoleUrl").GetString());
    }

    [Fact]
    public async Task IssueEndpoint_UnknownToken_Is404()
    {
        using var response = await TicketClusterFixture.IssueAsync(fixture.NodeA, new { token = "no-such-token-" + Guid.NewGuid().ToString("N") });

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    [Fact]
    public async Task ApiKey_IssuesTickets_ButOpensNothingElseOfTheAdminApi()
    {
        using var issued = await TicketClusterFixture.IssueAsync(fixture.NodeA, new { token = fixture.Token }, bearer: TicketClusterFixture.ApiKey);
        using var wrong = await TicketClusterFixture.IssueAsync(fixture.NodeA, new { token = fixture.Token }, bearer: "not-the-key");
        using var admin = fixture.NodeA.AdminClient();
        admin.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", TicketClusterFixture.ApiKey);
        using var sessions = await admin.GetAsync(new Uri("/api/sessions", UriKind.Relative));

        Assert.Equal(HttpStatusCode.OK, issued.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, sessions.StatusCode);
    }

    [Fact]
    public async Task Refusals_AreCountedByReason_AndLogsNeverHoldAWholeTicket()
    {
        // The issued counter is printed from the start, at 0, and a refusal reason once any ticket test refused one: only
        // their movement shows that this refusal and this issue were counted.
        const string badSignature = "vnc_relay_ticket_refusals_total{reason=\"ticket_bad_signature\"}";
        const string expired = "vnc_relay_ticket_refusals_total{reason=\"ticket_expired\"}";
        const string issued = "vnc_relay_tickets_issued_total";
        var before = await MetricsAsync(fixture.NodeA, badSignature, expired, issued);

        var ticket = await fixture.TicketAsync();
        var refusal = await RefusalAsync(fixture.NodeA.WebSocketUri(TicketMint.Tamper(ticket)));
        var after = await MetricsAsync(fixture.NodeA, badSignature, expired, issued);

        Assert.Equal((WebSocketCloseStatus)4401, refusal.Status);
        string Moved(string series) => $"{series} went from {before[series]} to {after[series]}";
        Assert.True(after[badSignature] == before[badSignature] + 1, Moved(badSignature) + " after one tampered ticket");
        Assert.True(after[expired] == before[expired], Moved(expired) + " though no ticket expired");
        Assert.True(after[issued] == before[issued] + 1, Moved(issued) + " after one ticket was issued");
        var logs = fixture.NodeA.Process.Output + fixture.NodeB.Process.Output;
        Assert.DoesNotContain(ticket[..40], logs, StringComparison.Ordinal);
        Assert.DoesNotContain(TicketClusterFixture.Secret, logs, StringComparison.Ordinal);
        Assert.DoesNotContain(TicketClusterFixture.ApiKey, logs, StringComparison.Ordinal);
    }

    /// <summary>The values of <paramref name="series"/> on a node's /metrics; a labelled series not yet printed is 0.</summary>
    private static async Task<Dictionary<string, long>> MetricsAsync(RelayNodeProcess node, params string[] series)
    {
        var metrics = await PrometheusText.ScrapeAsync(node);
        return series.ToDictionary(name => name, name => (long)metrics.Value(name));
    }

    private static async Task AssertEchoesAsync(ConsoleClient client)
    {
        var probe = RandomNumberGenerator.GetBytes(512);
        await client.SendAsync(probe);
        Assert.Equal(probe, await client.ReadExactlyAsync(probe.Length, Timeout));
    }

    private static async Task<(WebSocketCloseStatus? Status, string? Reason)> RefusalAsync(Uri uri)
    {
        await using var client = await ConsoleClient.ConnectAsync(uri);
        return await client.ReadUntilCloseAsync(Timeout);
    }
}
