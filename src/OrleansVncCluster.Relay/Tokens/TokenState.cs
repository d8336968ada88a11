namespace OrleansVncCluster.Relay.Tokens;

/// <summary>The persisted state of a token grain.</summary>
[GenerateSerializer, Alias("vnc.TokenState")]
public sealed class TokenState
{
    /// <summary>The entry, or null when the token does not exist.</summary>
    [Id(0)] public ConsoleTokenEntry? Entry { get; set; }

    /// <summary>
    /// Sessions of this token an administrator closed, each until the end of its resume window: persisted with the entry
    /// so the close holds when the grain's silo dies, and a survivor can read it from storage (<see cref="StorageFallback"/>).
    /// Null when there are none; records written by an older build have none.
    /// </summary>
    [Id(1)] public Dictionary<string, DateTimeOffset>? ClosedSessions { get; set; }

    /// <summary>Whether <paramref name="sessionId"/> may be resumed at <paramref name="now"/>.</summary>
    public bool MayResume(string sessionId, DateTimeOffset now) =>
        !(ClosedSessions is { } closed && closed.TryGetValue(sessionId, out var until) && now < until);
}
