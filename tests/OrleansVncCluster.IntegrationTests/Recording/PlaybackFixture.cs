using System.Security.Cryptography;
using OrleansVncCluster.IntegrationTests.Console;
using OrleansVncCluster.IntegrationTests.Infrastructure;

namespace OrleansVncCluster.IntegrationTests.Recording;

/// <summary>One real node whose Recording:Directory holds the synthetic recordings (an hour, red-green-blue, one cut by
/// a node's death), with a ticket secret and a token for the console-ticket refusals, and one Chromium.</summary>
public sealed class PlaybackFixture : IAsyncLifetime
{
    public const string Hour = "5e000000000000000000000000000001";
    public const string RedGreenBlue = "5e000000000000000000000000000002";
    public const string Cut = "5e000000000000000000000000000003";

    public RelayNodeProcess Node { get; private set; } = null!;
    public ConsoleBrowser Browser { get; private set; } = null!;

    /// <summary>The node's ticket secret, for tickets the test seals itself (an expired one).</summary>
    public string TicketSecret { get; } = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));

    /// <summary>A console token the node knows (its target listens nowhere: only tickets for it are issued).</summary>
    public string Token { get; } = "playback-token-" + Guid.NewGuid().ToString("N")[..8];

    public async ValueTask InitializeAsync()
    {
        var directory = Repo.TempDirectory("recordings");
        await Task.Run(() =>
        {
            SyntheticRecording.WriteHour(Path.Combine(directory, Hour + ".vncrec"));
            SyntheticRecording.WriteRedGreenBlue(Path.Combine(directory, RedGreenBlue + ".vncrec"));
            SyntheticRecording.WriteCut(Path.Combine(directory, Cut + ".vncrec"));
        });
        var secretFile = Path.Combine(Repo.TempDirectory("playback"), "ticket-secret");
        await File.WriteAllTextAsync(secretFile, TicketSecret);
        var tokens = TokenFiles.Write(Repo.TempDirectory("playback"), (Token, $"127.0.0.1:{Ports.Free()}"));
        Browser = await ConsoleBrowser.LaunchAsync();
        Node = await RelayNodeProcess.StartAsync(new RelayNodeSettings
        {
            TokenFile = tokens,
            SiloName = "playback",
            Environment = { ["Recording__Directory"] = directory, ["Tickets__SecretFile"] = secretFile },
        });
    }

    public async ValueTask DisposeAsync()
    {
        if (Node is not null)
        {
            await Node.DisposeAsync();
        }

        if (Browser is not null)
        {
            await Browser.DisposeAsync();
        }
    }
}
