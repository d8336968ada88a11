using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging.Abstractions;
using OrleansVncCluster.Relay.Admission;
using OrleansVncCluster.Relay.Tickets;
using OrleansVncCluster.Relay.Tokens;
using OrleansVncCluster.Tests.Tickets;

namespace OrleansVncCluster.Tests.Admission;

/// <summary>How the relay's door reads a page's resume credential: from the page's own cookie, as the grant it stands for.</summary>
public sealed class ResumeAdmissionTests
{
    private const string Secret = "cluster-secret-0123456789-abcdefghijklmnop";
    private const string Token = "2e843805d056a266227cbb6b699a7ee0";
    private const string PageId = "Zm9vYmFyYmF6cXV4cXV1eA";

    private static TicketGate Gate(TimeSpan? window = null, TimeProvider? clock = null) => new(
        new TicketKeyRing(new TestOptions<TicketOptions>(new TicketOptions { Secret = Secret }), TimeProvider.System, NullLogger<TicketKeyRing>.Instance),
        null!,
        new TestOptions<TokenOptions>(new TokenOptions()),
        new TestOptions<TicketOptions>(new TicketOptions { Secret = Secret, ResumeWindow = window ?? TimeSpan.FromMinutes(2) }),
        clock ?? TimeProvider.System,
        NullLogger<TicketGate>.Instance);

    private static ConsoleTicket ViewTicket() => new("k", Token, DateTimeOffset.UtcNow.AddMinutes(1), "nonce", SingleUse: true, ViewOnly: true)
    {
        Binding = "vm-binding",
        VmId = "4711",
        User = "bob",
    };

    private static HttpRequest Request(string query, string? cookie = null)
    {
        var context = new DefaultHttpContext();
        context.Request.QueryString = new QueryString(query);
        if (cookie is not null)
        {
            context.Request.Headers.Cookie = cookie;
        }

        return context.Request;
    }

    [Fact]
    public void ResumeOfASingleUseViewTicket_AdmitsTheSameVmRoleAndUser_WithoutRedemption()
    {
        var gate = Gate();
        var credential = gate.IssueResume("abc123def456", Token, "vm-binding", ViewTicket())!;

        var presented = gate.Admit(credential);

        Assert.Null(presented.Refused);
        Assert.Equal(Token, presented.Token);
        var grant = presented.Ticket!;
        Assert.Equal(("vm-binding", "4711", "bob", true, false, "abc123def456"),
            (grant.Binding, grant.VmId, grant.User, grant.ViewOnly, grant.SingleUse, grant.ResumedSession));
    }

    [Fact]
    public void ResumeOfAPlainTokenSession_IsAControlGrantForTheSameToken()
    {
        var gate = Gate();

        var presented = gate.Admit(gate.IssueResume("abc123def456", Token, "vm-binding", ticket: null));

        Assert.Equal((Token, false, "vm-binding"), (presented.Token, presented.Ticket!.ViewOnly, presented.Ticket.Binding));
    }

    [Fact]
    public void ExpiredCredential_IsRefusedWith4419()
    {
        var clock = new ManualClock(DateTimeOffset.UtcNow);
        var gate = Gate(clock: clock);
        var credential = gate.IssueResume("abc123def456", Token, "vm-binding", null);

        clock.Now += TimeSpan.FromMinutes(2);
        var presented = gate.Admit(credential);

        Assert.Equal(CloseReasons.TicketExpired, presented.Refused!.Value.Status);
        Assert.Equal("resume_expired", presented.Refused.Value.Metric);
    }

    [Fact]
    public void WithResumingOff_NoCredentialIsIssued_AndAnEarlierOneIsRefused()
    {
        var credential = Gate().IssueResume("abc123def456", Token, "vm-binding", null);
        var off = Gate(TimeSpan.Zero);

        Assert.Null(off.IssueResume("abc123def456", Token, "vm-binding", null));
        Assert.Equal("resume_off", off.Admit(credential).Refused!.Value.Metric);
    }

    [Fact]
    public void ReadPresented_TakesThePagesCookie_BeforeTheTicket()
    {
        var credential = Gate().IssueResume("abc123def456", Token, "vm-binding", null)!;
        var cookie = $"vnc-resume-{PageId}={credential}; vnc-resume-OtherPageOtherPage1={credential[..^2]}xx";

        Assert.Equal(credential, TicketGate.ReadPresented(Request($"?ticket=vt2.k.x&resume={PageId}", cookie)));
    }

    [Fact]
    public void ReadPresented_WithoutTheCookie_OrWithABadPageId_FallsBackToTheTicket()
    {
        var credential = Gate().IssueResume("abc123def456", Token, "vm-binding", null)!;

        Assert.Equal("vt2.k.x", TicketGate.ReadPresented(Request($"?ticket=vt2.k.x&resume={PageId}")));
        Assert.Equal("vt2.k.x", TicketGate.ReadPresented(Request("?ticket=vt2.k.x&resume=short", $"vnc-resume-short={credential}")));
        // A cookie that holds something else than a resume credential (a ticket) is not read as one.
        Assert.Equal("vt2.k.x", TicketGate.ReadPresented(Request($"?ticket=vt2.k.x&resume={PageId}", $"vnc-resume-{PageId}=vt2.k.y")));
    }

    [Fact]
    public void ACredentialPresentedAsATicketOrToken_IsNoTicket()
    {
        var gate = Gate();
        var credential = gate.IssueResume("abc123def456", Token, "vm-binding", null)!;

        // In ?ticket= it is read by the same door, as a resume credential; but a ticket in the resume cookie is never read.
        Assert.False(TicketText.LooksLikeTicket(credential));
        Assert.Equal(TicketStatus.Malformed, TicketText.Verify(credential, _ => null, DateTimeOffset.UtcNow, out _));
    }
}
