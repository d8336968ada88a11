using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Logging.Abstractions;
using OrleansVncCluster.Relay.Admission;
using OrleansVncCluster.Relay.ConsolePage;
using OrleansVncCluster.Relay.Tickets;
using OrleansVncCluster.Tests.Tickets;

namespace OrleansVncCluster.Tests.Console;

/// <summary>The share call's refusals that need no cluster (issue 14): each is a 403 whose reason says why, decided from the
/// request and the page's resume cookie before the token or its session is asked about.</summary>
public sealed class ShareLinksTests
{
    private const string Token = "2e843805d056a266227cbb6b699a7ee0";
    private const string PageId = "Zm9vYmFyYmF6cXV4cXV1eA";

    private static TicketGate Gate(bool allowShare = true) => TicketShareTests.Gate(allowShare);

    // The session's grain and token store are never reached by these refusals: no ResumeGrants is needed.
    private static ShareLinks Share(TicketGate gate) =>
        new(gate, null!, new TestOptions<AdmissionOptions>(new AdmissionOptions()), NullLogger<ShareLinks>.Instance);

    private static HttpContext Request(string? credential, string origin = "http://relay.example")
    {
        var context = new DefaultHttpContext();
        context.Request.Method = "POST";
        context.Request.Host = new HostString("relay.example");
        context.Request.QueryString = new QueryString($"?resume={PageId}");
        context.Request.Headers.Origin = origin;
        if (credential is not null)
        {
            context.Request.Headers.Cookie = $"{ResumeCookie.NamePrefix}{PageId}={credential}";
        }

        return context;
    }

    private static string Credential(TicketGate gate, bool viewOnly, bool mayShare) =>
        gate.IssueResume("abc123def456", Token, "vm-binding", new ConsoleTicket("k", Token, DateTimeOffset.UtcNow.AddMinutes(1), "nonce", SingleUse: true, viewOnly)
        {
            Binding = "vm-binding",
            User = "alice",
            MayShare = mayShare,
        })!;

    private static async Task<string> RefusedAsync(ShareLinks share, HttpContext context)
    {
        var result = await share.ShareAsync(context);

        Assert.Equal(StatusCodes.Status403Forbidden, Assert.IsType<IStatusCodeHttpResult>(result, exactMatch: false).StatusCode);
        var value = Assert.IsType<IValueHttpResult>(result, exactMatch: false).Value;
        return JsonSerializer.SerializeToElement(value).GetProperty("error").GetString()!;
    }

    [Fact]
    public async Task WithoutAResumeCookie_TheShareCallIsRefused()
    {
        var gate = Gate();

        Assert.Contains("no valid resume credential", await RefusedAsync(Share(gate), Request(credential: null)), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AViewSession_CannotShare()
    {
        var gate = Gate();

        var reason = await RefusedAsync(Share(gate), Request(Credential(gate, viewOnly: true, mayShare: false)));

        Assert.Contains("view-only session cannot share", reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AControlSessionWhoseTicketHadNoShare_CannotShare()
    {
        var gate = Gate();

        var reason = await RefusedAsync(Share(gate), Request(Credential(gate, viewOnly: false, mayShare: false)));

        Assert.Contains("does not allow sharing", reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task WithSharingTurnedOff_ATicketWithShare_CannotShare()
    {
        var gate = Gate(allowShare: false);

        var reason = await RefusedAsync(Share(gate), Request(Credential(gate, viewOnly: false, mayShare: true)));

        Assert.Contains("sharing is turned off on this cluster", reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task APageOfAnotherOrigin_CannotShare_EvenWithTheCookie()
    {
        var gate = Gate();

        var reason = await RefusedAsync(Share(gate), Request(Credential(gate, viewOnly: false, mayShare: true), origin: "https://evil.example"));

        Assert.Contains("may not share consoles here", reason, StringComparison.Ordinal);
    }
}
