using System.Buffers.Binary;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using OrleansVncCluster.IntegrationTests.Console;
using OrleansVncCluster.IntegrationTests.Infrastructure;
using OrleansVncCluster.Relay.Recording;

namespace OrleansVncCluster.IntegrationTests.Recording;

/// <summary>Two nodes on one redis-server and a real Xvnc desktop whose root window the tests repaint. The first records
/// every session (Recording:Mode=on) with a keyframe every second; the second must record every session
/// (Recording:Mode=required) but its directory cannot be made (a file stands in its path), and lets no ticket ask for a
/// recording (Recording:AllowPerTicket=false).</summary>
public sealed class RecordingFixture : IAsyncLifetime
{
    public const int Width = 320;
    public const int Height = 200;

    private readonly List<RelayNodeProcess> _nodes = [];
    private Func<int, RelayNodeSettings> _settings = null!;

    public RedisServer Redis { get; private set; } = null!;
    public XvncServer Desktop { get; private set; } = null!;
    public string Token { get; } = "rec-" + Guid.NewGuid().ToString("N")[..8];
    public IReadOnlyList<RelayNodeProcess> Nodes => _nodes;
    public IReadOnlyList<string> Directories { get; private set; } = [];

    public async ValueTask InitializeAsync()
    {
        Redis = await RedisServer.StartAsync();
        Desktop = await XvncServer.StartAsync(password: null, "#ff0000", Width, Height);
        var directory = Repo.TempDirectory("recording");
        var tokens = TokenFiles.Write(directory, (Token, $"127.0.0.1:{Desktop.Port}"));
        await File.WriteAllTextAsync(Path.Combine(directory, "a-file"), "not a directory\n");
        Directories = [Path.Combine(directory, "node1"), Path.Combine(directory, "a-file", "node2")];
        var secret = Path.Combine(directory, "ticket-secret");
        await File.WriteAllTextAsync(secret, Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32)) + "\n");
        var cluster = "rec-" + Guid.NewGuid().ToString("N")[..8];
        RelayNodeSettings Settings(int index) => new()
        {
            RedisConnectionString = Redis.ConnectionString,
            TokenFile = tokens,
            SiloName = $"rec-node{index + 1}",
            Environment = new()
            {
                ["Orleans__ClusterId"] = cluster,
                ["Orleans__ServiceId"] = cluster,
                ["Tickets__SecretFile"] = secret,
                ["Recording__Mode"] = index == 0 ? "on" : "required",
                ["Recording__AllowPerTicket"] = index == 0 ? "true" : "false",
                ["Recording__Directory"] = Directories[index],
                ["Recording__KeyframeInterval"] = "00:00:01",
            },
        };

        _settings = Settings;
        _nodes.Add(await RelayNodeProcess.StartAsync(Settings(0)));
        _nodes.Add(await RelayNodeProcess.StartAsync(Settings(1)));
    }

    /// <summary>Starts one more node of the cluster that records like the first, into <paramref name="directory"/>.</summary>
    public async Task<RelayNodeProcess> StartRecordingNodeAsync(string directory)
    {
        var settings = _settings(0);
        var node = await RelayNodeProcess.StartAsync(settings with
        {
            SiloName = "rec-node3",
            Environment = new(settings.Environment) { ["Recording__Directory"] = directory },
        });
        _nodes.Add(node);
        return node;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var node in _nodes)
        {
            await node.DisposeAsync();
        }

        await Desktop.DisposeAsync();
        await Redis.DisposeAsync();
    }
}

/// <summary>Session recording (issue 14) against a real Xvnc through real relay processes: what a recording keeps, where
/// its keyframes are, and how it is found and fetched across the cluster.</summary>
public sealed class RecordingTests(RecordingFixture fixture) : IClassFixture<RecordingFixture>
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task ARecordedSession_KeepsServerInitStatelessEncodingsKeyframesAtUpdatesInputWithoutKeyValuesAndItsEnd()
    {
        var browser = await NoVncLikeBrowser.OpenAsync(fixture.Nodes[0], fixture.Token);
        await using (browser.Client)
        {
            // ZRLE keeps zlib state and continuous updates would stop the update requests keyframes ride on: both go.
            await browser.Client.SendAsync((byte[])[.. RfbMessages.Encodings(16, 0, -313), .. browser.UpdateRequest(incremental: false)]);
            await browser.ReadUpdateAsync();
            await browser.Client.SendAsync((byte[])[4, 1, 0, 0, 0, 0, 0, 0x61, 5, 1, 0, 10, 0, 20]); // key 'a' down, a click
            foreach (var colour in new[] { "#00ff00", "#0000ff", "#ff0000" })
            {
                // A keyframe is due a second after the last: let it pass, then the next update request becomes a full one.
                await Task.Delay(TimeSpan.FromSeconds(1.2));
                await browser.Client.SendAsync(browser.UpdateRequest(incremental: true));
                await fixture.Desktop.PaintAsync(colour);
                await browser.ReadUpdateAsync();
            }
        }

        var file = await RecordingFileAsync(fixture.Directories[0]);
        var records = ReadAll(file, out var truncated);

        Assert.False(truncated);
        Assert.Equal(RecordingRecordKind.Metadata, records[0].Kind);
        Assert.Equal(browser.ServerInit, records.Single(r => r.Kind == RecordingRecordKind.ServerInit).Payload);
        var setEncodings = records.Where(r => r.Kind == RecordingRecordKind.ClientSetup).Select(r => r.Payload).Single(p => p[0] == 2);
        Assert.Equal(RfbMessages.Encodings(1, 0, 0), setEncodings);
        var inputs = records.Where(r => r.Kind == RecordingRecordKind.Input).Select(r => Input(r.Payload)).ToList();
        Assert.Contains(inputs, i => i.Kind == RecordingInputKind.Key && i.DownOrButtons == 1 && i.Value == 0);
        Assert.Contains(inputs, i => i is { Kind: RecordingInputKind.Pointer, DownOrButtons: 1, X: 10, Y: 20 });
        Assert.Equal(RecordingRecordKind.End, records[^1].Kind);
        Assert.Contains("\"code\":1000", Encoding.UTF8.GetString(records[^1].Payload), StringComparison.Ordinal);

        // The server data is the browser's stream, and every keyframe marks the start of a full-screen update in it.
        var stream = new List<byte>();
        var keyframes = new List<long>();
        foreach (var record in records)
        {
            if (record.Kind == RecordingRecordKind.Keyframe)
            {
                keyframes.Add(stream.Count);
            }
            else if (record.Kind == RecordingRecordKind.ServerData)
            {
                stream.AddRange(record.Payload);
            }
        }

        Assert.Equal(browser.Received, stream.Take(browser.Received.Count));
        Assert.True(keyframes.Count >= 3, $"a keyframe at the start and one a second after ({keyframes.Count})");
        Assert.Equal(0, keyframes[0]);
        foreach (var keyframe in keyframes.Where(k => k < browser.Received.Count))
        {
            Assert.True(browser.FullUpdates.Contains(keyframe), $"the keyframe at {keyframe} starts a full-screen update ({string.Join(", ", browser.FullUpdates)})");
        }
    }

    [Fact]
    public async Task ADesktopTurningRedGreenBlue_InNoVnc_PlaysBackInThatOrderThroughTheOtherNode_AndTheEndShowsBlue()
    {
        Rgb red = new(255, 0, 0), green = new(0, 255, 0), blue = new(0, 0, 255);
        await fixture.Desktop.PaintAsync("#ff0000");
        await using var chromium = await ConsoleBrowser.LaunchAsync();
        using var admin = fixture.Nodes[0].AdminClient();
        using var issued = await admin.PostAsJsonAsync(new Uri("/api/tickets", UriKind.Relative), new { token = fixture.Token });
        var consoleUrl = (await issued.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("consoleUrl").GetString()!;
        await using (var console = await chromium.OpenTabAsync())
        {
            await console.Page.GotoAsync(fixture.Nodes[0].HttpUri(consoleUrl).ToString());
            await console.WaitForStateAsync("connected", Patience);
            foreach (var (colour, paint) in new[] { (red, "#ff0000"), (green, "#00ff00"), (blue, "#0000ff") })
            {
                await fixture.Desktop.PaintAsync(paint);
                await console.WaitForColourAsync(colour, Patience);
                // Each colour stays on the screen a while, so that a 4x playback shows it for a few samples.
                await Task.Delay(TimeSpan.FromSeconds(1.5));
            }
        }

        var id = Path.GetFileNameWithoutExtension(await RecordingFileAsync(fixture.Directories[0]));
        using var other = fixture.Nodes[1].AdminClient();
        await Eventually.HoldsAsync(async () => (await other.GetAsync(new Uri($"/api/recordings/{id}/file", UriKind.Relative))).IsSuccessStatusCode,
            Patience, "the other node reaches the recording on the node that wrote it");

        await using var playback = await RecordingPlayback.OpenAsync(chromium, fixture.Nodes[1], id, Patience);
        await playback.StartColourLogAsync();
        await playback.PlayAsync(4);
        await playback.Tab.WaitForStateAsync("ended", Patience);

        Assert.Equal([red, green, blue], await playback.ColoursShownAsync(red, green, blue));
        await playback.SeekAsync(playback.DurationMs, blue, Patience);
    }

    [Fact]
    public async Task ARecording_IsListedFetchedAndLinkedFromTheHistory_ThroughAnotherNode()
    {
        var browser = await NoVncLikeBrowser.OpenAsync(fixture.Nodes[0], fixture.Token);
        await using (browser.Client)
        {
            await browser.Client.SendAsync((byte[])[.. RfbMessages.Encodings(0), .. browser.UpdateRequest(incremental: false)]);
            await browser.ReadUpdateAsync();
        }

        var file = await RecordingFileAsync(fixture.Directories[0]);
        var id = Path.GetFileNameWithoutExtension(file);
        using var other = fixture.Nodes[1].AdminClient();

        JsonElement entry = default;
        await Eventually.HoldsAsync(async () =>
        {
            var listed = await other.GetFromJsonAsync<JsonElement>(new Uri("/api/recordings?limit=100", UriKind.Relative));
            entry = listed.EnumerateArray().FirstOrDefault(e => e.GetProperty("id").GetString() == id);
            return entry.ValueKind == JsonValueKind.Object && entry.GetProperty("complete").GetBoolean();
        }, Patience, "the other node lists the finished recording");
        // Eventually: after a node's death (the kill test) the node directory may be activated anew, and it knows the
        // writing node again only once that node re-registers (NodeDirectory.RefreshInterval, 5 s).
        byte[] bytes = [];
        await Eventually.HoldsAsync(async () =>
        {
            using var response = await other.GetAsync(new Uri($"/api/recordings/{id}/file", UriKind.Relative));
            bytes = response.IsSuccessStatusCode ? await response.Content.ReadAsByteArrayAsync() : [];
            return response.IsSuccessStatusCode;
        }, Patience, "the other node fetches the file from the node that wrote it");
        using var asked = new HttpRequestMessage(HttpMethod.Get, new Uri($"/api/recordings/{id}", UriKind.Relative));
        asked.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/octet-stream"));
        using var answer = await other.SendAsync(asked);
        var sessionId = entry.GetProperty("sessionId").GetString();
        JsonElement history = default;
        await Eventually.HoldsAsync(async () =>
        {
            var records = await other.GetFromJsonAsync<JsonElement>(new Uri("/api/history?limit=100", UriKind.Relative));
            history = records.EnumerateArray().FirstOrDefault(r => r.GetProperty("id").GetString() == sessionId);
            return history.ValueKind == JsonValueKind.Object && history.TryGetProperty("end", out var end) && end.ValueKind != JsonValueKind.Null;
        }, Patience, "the history has the session's closed record");

        Assert.Equal("rec-node1", entry.GetProperty("node").GetString());
        Assert.Equal(new FileInfo(file).Length, entry.GetProperty("bytes").GetInt64());
        Assert.Equal(await File.ReadAllBytesAsync(file), bytes);
        Assert.Equal(bytes, await answer.Content.ReadAsByteArrayAsync());
        Assert.Equal(id, history.GetProperty("recordingId").GetString());
    }

    [Fact]
    public async Task ASessionThatMustBeRecorded_AndCannotBe_IsRefusedWithAReadableReason()
    {
        await using var client = await ConsoleClient.ConnectAsync(fixture.Nodes[1].WebSocketUri(fixture.Token), ["binary"]);
        await client.ReadExactlyAsync(12, Patience);
        await client.SendAsync("RFB 003.008\n"u8.ToArray());
        await client.ReadExactlyAsync(2, Patience);
        await client.SendAsync(new byte[] { 1 });
        await client.ReadExactlyAsync(4, Patience);
        await client.SendAsync(new byte[] { 1 });

        var (status, reason) = await client.ReadUntilCloseAsync(Patience);

        Assert.Equal((WebSocketCloseStatus)4451, status);
        Assert.StartsWith("this console must be recorded and the relay cannot record it", reason, StringComparison.Ordinal);
        await fixture.Nodes[1].Process.WaitForOutputAsync("it must be recorded and the relay cannot record it", Patience);
    }

    [Fact]
    public async Task ATicketAskingForARecording_IsRefusedWith400_WhereTheRelayLetsNoTicketAsk()
    {
        using var admin = fixture.Nodes[1].AdminClient();
        await TicketConsole.IssueAsync(fixture.Nodes[1], new { token = fixture.Token });

        using var response = await admin.PostAsJsonAsync(new Uri("/api/tickets", UriKind.Relative), new { token = fixture.Token, record = true });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("Recording:AllowPerTicket is false", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ANodeKilledMidRecording_LeavesAFileThatPlaysUpToItsLastFlush_AndAnEntryMarkedCut()
    {
        var directory = Repo.TempDirectory("recording-killed");
        var victim = await fixture.StartRecordingNodeAsync(directory);
        var browser = await NoVncLikeBrowser.OpenAsync(victim, fixture.Token);
        await using (browser.Client)
        {
            await browser.Client.SendAsync((byte[])[.. RfbMessages.Encodings(0), .. browser.UpdateRequest(incremental: false)]);
            await browser.ReadUpdateAsync();
            await browser.Client.SendAsync(browser.UpdateRequest(incremental: true));
            await fixture.Desktop.PaintAsync("#00ff00");
            await browser.ReadUpdateAsync();

            // Two flushes of the node's one-second timer pass: all the browser has seen must be in the file.
            await Task.Delay(TimeSpan.FromSeconds(2.5));
            victim.Process.Signal("KILL");
            Assert.True(await victim.Process.WaitForExitAsync(TimeSpan.FromSeconds(10)), "the node dies on SIGKILL");
        }

        var file = Directory.GetFiles(directory, "*" + RecordingFormat.FileExtension).Single();
        var records = ReadAll(file, out _);
        var stream = records.Where(r => r.Kind == RecordingRecordKind.ServerData).SelectMany(r => r.Payload).ToList();
        Assert.Equal(browser.Received, stream.Take(browser.Received.Count));
        Assert.True(stream.Count >= browser.Received.Count, $"the file holds what the browser saw ({stream.Count} of {browser.Received.Count} bytes)");
        Assert.DoesNotContain(records, r => r.Kind == RecordingRecordKind.End);

        using var survivor = fixture.Nodes[0].AdminClient();
        var id = Path.GetFileNameWithoutExtension(file);
        await Eventually.HoldsAsync(async () =>
        {
            using var response = await survivor.GetAsync(new Uri($"/api/recordings/{id}", UriKind.Relative));
            var entry = response.IsSuccessStatusCode ? await response.Content.ReadFromJsonAsync<JsonElement>() : default;
            return entry.ValueKind == JsonValueKind.Object && entry.GetProperty("cut").GetBoolean() && !entry.GetProperty("complete").GetBoolean();
        }, TimeSpan.FromSeconds(60), "a survivor says the recording was cut once the directory dropped its node");
    }

    /// <summary>The newest recording in <paramref name="directory"/> (ids sort by time) once its End record is written.</summary>
    private static async Task<string> RecordingFileAsync(string directory)
    {
        string? found = null;
        await Eventually.HoldsAsync(() =>
        {
            found = Directory.Exists(directory) ? Directory.GetFiles(directory, "*" + RecordingFormat.FileExtension).Max(StringComparer.Ordinal) : null;
            return found is not null && ReadAll(found, out _) is { Count: > 0 } records && records[^1].Kind == RecordingRecordKind.End;
        }, TimeSpan.FromSeconds(20), "the recording ends");
        return found!;
    }

    private static List<(RecordingRecordKind Kind, uint TimeMs, byte[] Payload)> ReadAll(string path, out bool truncated)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        var reader = RecordingFileReader.Open(stream);
        var records = new List<(RecordingRecordKind, uint, byte[])>();
        while (reader.TryReadNext(out var record))
        {
            records.Add((record.Kind, record.TimeMs, record.Payload.ToArray()));
        }

        truncated = reader.Truncated;
        return records;
    }

    private static RecordingInput Input(byte[] payload)
    {
        Assert.True(RecordingInput.TryRead(payload, out var input));
        return input;
    }

    /// <summary>A browser as noVNC behaves towards a recorded session: the None handshake, then one update request at a
    /// time, reading each FramebufferUpdate whole (Raw and CopyRect at the server's 32 bits per pixel) and noting where
    /// the full-screen ones start.</summary>
    private sealed class NoVncLikeBrowser
    {
        private NoVncLikeBrowser(ConsoleClient client, byte[] serverInit)
        {
            Client = client;
            ServerInit = serverInit;
        }

        public ConsoleClient Client { get; }
        public byte[] ServerInit { get; }
        public List<byte> Received { get; } = [];
        public HashSet<long> FullUpdates { get; } = [];

        public static async Task<NoVncLikeBrowser> OpenAsync(RelayNodeProcess node, string token)
        {
            var client = await ConsoleClient.ConnectAsync(node.WebSocketUri(token), ["binary"]);
            await client.ReadExactlyAsync(12, Patience);
            await client.SendAsync("RFB 003.008\n"u8.ToArray());
            Assert.Equal(new byte[] { 1, 1 }, await client.ReadExactlyAsync(2, Patience));
            await client.SendAsync(new byte[] { 1 });
            Assert.Equal(new byte[4], await client.ReadExactlyAsync(4, Patience));
            await client.SendAsync(new byte[] { 1 });
            var init = await client.ReadExactlyAsync(24, Patience);
            var name = await client.ReadExactlyAsync((int)BinaryPrimitives.ReadUInt32BigEndian(init.AsSpan(20)), Patience);
            return new NoVncLikeBrowser(client, [.. init, .. name]);
        }

        public byte[] UpdateRequest(bool incremental)
        {
            var request = new byte[10];
            request[0] = 3;
            request[1] = incremental ? (byte)1 : (byte)0;
            BinaryPrimitives.WriteUInt16BigEndian(request.AsSpan(6), BinaryPrimitives.ReadUInt16BigEndian(ServerInit));
            BinaryPrimitives.WriteUInt16BigEndian(request.AsSpan(8), BinaryPrimitives.ReadUInt16BigEndian(ServerInit.AsSpan(2)));
            return request;
        }

        /// <summary>Reads server messages up to and including the next FramebufferUpdate.</summary>
        public async Task ReadUpdateAsync()
        {
            var start = Received.Count;
            var type = (await ReadAsync(1))[0];
            Assert.True(type == 0, $"only FramebufferUpdates come from this desktop ({type})");
            var header = await ReadAsync(3);
            long area = 0;
            for (var rectangles = BinaryPrimitives.ReadUInt16BigEndian(header.AsSpan(1)); rectangles > 0; rectangles--)
            {
                var rectangle = await ReadAsync(12);
                int width = BinaryPrimitives.ReadUInt16BigEndian(rectangle.AsSpan(4)), height = BinaryPrimitives.ReadUInt16BigEndian(rectangle.AsSpan(6));
                var encoding = BinaryPrimitives.ReadInt32BigEndian(rectangle.AsSpan(8));
                Assert.True(encoding is 0 or 1, $"the server uses only the encodings the relay left (Raw, CopyRect), not {encoding}");
                await ReadAsync(encoding == 0 ? width * height * 4 : 4);
                area += encoding == 0 ? (long)width * height : 0;
            }

            if (area >= RecordingFixture.Width * RecordingFixture.Height)
            {
                FullUpdates.Add(start);
            }
        }

        private async Task<byte[]> ReadAsync(int count)
        {
            var bytes = await Client.ReadExactlyAsync(count, Patience);
            Received.AddRange(bytes);
            return bytes;
        }
    }
}
