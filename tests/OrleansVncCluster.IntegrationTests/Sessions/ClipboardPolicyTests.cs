using System.Buffers.Binary;
using System.Net;
using System.Net.Http.Json;
using OrleansVncCluster.IntegrationTests.Infrastructure;

namespace OrleansVncCluster.IntegrationTests.Sessions;

/// <summary>One node with a clipboard cap of 16 bytes (Vnc:MaxClipboardBytes) and three fake VNC servers that record
/// what reaches them and send what a test gives them.</summary>
public sealed class ClipboardPolicyFixture : IAsyncLifetime
{
    public const int Cap = 16;

    public RecordingRfbServer ToVm { get; } = new();
    public RecordingRfbServer FromVm { get; } = new();
    public RecordingRfbServer Capped { get; } = new();
    public RelayNodeProcess Node { get; private set; } = null!;

    public async ValueTask InitializeAsync()
    {
        var directory = Repo.TempDirectory("clipboard");
        var secret = Path.Combine(directory, "ticket-secret");
        await File.WriteAllTextAsync(secret, Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32)) + "\n");
        Node = await RelayNodeProcess.StartAsync(new RelayNodeSettings
        {
            TokenFile = TokenFiles.Write(directory,
                ("clip-to-vm", $"127.0.0.1:{ToVm.Port}"), ("clip-from-vm", $"127.0.0.1:{FromVm.Port}"), ("clip-capped", $"127.0.0.1:{Capped.Port}")),
            SiloName = "clipboard",
            Environment = { ["Tickets__SecretFile"] = secret, ["Vnc__MaxClipboardBytes"] = Cap.ToString(System.Globalization.CultureInfo.InvariantCulture) },
        });
    }

    public async ValueTask DisposeAsync()
    {
        await Node.DisposeAsync();
        await ToVm.DisposeAsync();
        await FromVm.DisposeAsync();
        await Capped.DisposeAsync();
    }
}

/// <summary>Clipboard policy in both directions against a fake VNC server, through a real relay process (issue 13,
/// item 4): a ticket's <c>clipboard</c> and the cluster's cap decide which clipboard contents reach the VM and the browser;
/// the rest of the stream passes unchanged, and refusals are counted and logged without their contents.</summary>
public sealed class ClipboardPolicyTests(ClipboardPolicyFixture fixture) : IClassFixture<ClipboardPolicyFixture>
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(15);
    private static readonly byte[] UpdateRequest = [3, 0, 0, 0, 0, 0, 0, 64, 0, 48];
    private static readonly byte[] Bell = [2];

    /// <summary>A FramebufferUpdate at 32 bits per pixel: a Raw 2x2 rectangle and a Hextile 4x4 one (a background and
    /// two coloured subrectangles), as the fake server's ServerInit announces.</summary>
    private static readonly byte[] Update =
    [
        0, 0, 0, 2,
        0, 0, 0, 0, 0, 2, 0, 2, 0, 0, 0, 0, .. Enumerable.Repeat((byte)0x7F, 16),
        0, 2, 0, 0, 0, 4, 0, 4, 0, 0, 0, 5, 2 | 8 | 16, 1, 2, 3, 0, 2, 9, 9, 9, 0, 0x00, 0x11, 8, 8, 8, 0, 0x22, 0x11,
    ];

    [Fact]
    public async Task ToVmTicket_ThePastedTextReachesTheVm_TheVmsCopiedTextNeverReachesTheBrowser()
    {
        var (client, clipboard) = await OpenAsync(new { token = "clip-to-vm", clipboard = "to-vm" });
        await using (client)
        {
            byte[] paste = CutText(6, "hello");
            await client.SendAsync((byte[])[.. RfbMessages.Encodings(1, 7, -260, 16, 21, 5, 0), .. paste, .. UpdateRequest]);
            await fixture.ToVm.WaitForSuffixAsync(UpdateRequest, Patience);
            await fixture.ToVm.SendAsync([.. Update, .. CutText(3, "vm-secret"), .. Bell], Patience);

            // Bell comes last: had the copied text passed, it would stand before it.
            byte[] expected = [.. Update, .. Bell];
            Assert.Equal(expected, await client.ReadExactlyAsync(expected.Length, Patience));
            Assert.Equal("to-vm", clipboard);
            // The server is asked only for encodings the relay can walk; each other one became the one before it.
            Assert.Equal([.. RfbMessages.Encodings(1, 1, 1, 16, 16, 5, 0), .. paste, .. UpdateRequest], fixture.ToVm.Received);
        }
    }

    [Fact]
    public async Task FromVmTicket_TheVmsCopiedTextReachesTheBrowser_ThePastedTextNeverReachesTheVm()
    {
        var (client, clipboard) = await OpenAsync(new { token = "clip-from-vm", clipboard = "from-vm" });
        await using (client)
        {
            await client.SendAsync((byte[])[.. RfbMessages.Encodings(1, 7, -260, 16, 21, 5, 0), .. CutText(6, "hello"), .. UpdateRequest]);
            await fixture.FromVm.WaitForSuffixAsync(UpdateRequest, Patience);
            byte[] copy = CutText(3, "vm-text");
            await fixture.FromVm.SendAsync([.. Update, .. copy, .. Bell], Patience);

            byte[] expected = [.. Update, .. copy, .. Bell];
            Assert.Equal(expected, await client.ReadExactlyAsync(expected.Length, Patience));
            Assert.Equal("from-vm", clipboard);
            // The cluster's cap has the relay read every session's server stream, this one's too: its encodings are cut.
            Assert.Equal([.. RfbMessages.Encodings(1, 1, 1, 16, 16, 5, 0), .. UpdateRequest], fixture.FromVm.Received);
        }
    }

    [Fact]
    public async Task ClusterCap_DropsLargerClipboardContentsBothWays_CountsAndLogsThemWithoutTheirContents()
    {
        var (client, clipboard) = await OpenAsync(new { token = "clip-capped" });
        await using (client)
        {
            byte[] smallPaste = CutText(6, "small paste");
            var bigPaste = "pasted-" + new string('p', ClipboardPolicyFixture.Cap);
            await client.SendAsync((byte[])[.. smallPaste, .. CutText(6, bigPaste), .. UpdateRequest]);
            await fixture.Capped.WaitForSuffixAsync(UpdateRequest, Patience);
            byte[] smallCopy = CutText(3, "small copy");
            var bigCopy = "copied-" + new string('c', ClipboardPolicyFixture.Cap);
            await fixture.Capped.SendAsync([.. smallCopy, .. CutText(3, bigCopy), .. Bell], Patience);

            byte[] expected = [.. smallCopy, .. Bell];
            Assert.Equal(expected, await client.ReadExactlyAsync(expected.Length, Patience));
            Assert.Equal("both", clipboard);
            Assert.Equal([.. smallPaste, .. UpdateRequest], fixture.Capped.Received);
            await fixture.Node.Process.WaitForOutputAsync("bytes of clipboard from_vm (too_large", Patience);
            var metrics = await PrometheusText.ScrapeAsync(fixture.Node);
            Assert.True(metrics.Value("vnc_relay_clipboard_refused_total{direction=\"to_vm\",reason=\"too_large\"}") >= 1, "the paste over the cap is counted");
            Assert.True(metrics.Value("vnc_relay_clipboard_refused_total{direction=\"from_vm\",reason=\"too_large\"}") >= 1, "the copy over the cap is counted");
            await fixture.Node.Process.WaitForOutputAsync("bytes of clipboard to_vm (too_large", Patience);
            Assert.DoesNotContain(bigPaste, fixture.Node.Process.Output, StringComparison.Ordinal);
            Assert.DoesNotContain(bigCopy, fixture.Node.Process.Output, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task AClipboardChoiceTheApiDoesNotKnow_IsRefusedWithTheChoices()
    {
        using var admin = fixture.Node.AdminClient();

        using var response = await admin.PostAsJsonAsync(new Uri("/api/tickets", UriKind.Relative), new { token = "clip-capped", clipboard = "sometimes" });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("to-vm", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    /// <summary>Issues a ticket from <paramref name="request"/> and does a browser's RFB handshake with it; returns the
    /// client and the answer's <c>clipboard</c>.</summary>
    private async Task<(ConsoleClient Client, string? Clipboard)> OpenAsync(object request)
    {
        var answer = await TicketConsole.IssueAsync(fixture.Node, request);
        return (await TicketConsole.OpenAsync(fixture.Node, answer.GetProperty("ticket").GetString(), Patience), answer.GetProperty("clipboard").GetString());
    }

    /// <summary>ClientCutText (type 6) or ServerCutText (type 3) with Latin-1 text.</summary>
    private static byte[] CutText(byte type, string text)
    {
        var bytes = new byte[8 + text.Length];
        bytes[0] = type;
        BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(4), text.Length);
        System.Text.Encoding.Latin1.GetBytes(text, bytes.AsSpan(8));
        return bytes;
    }
}
