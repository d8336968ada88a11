namespace OrleansVncCluster.Relay.Recording;

/// <summary>What <see cref="Recorder.Start"/> gave: a recording, or why there is none (a reason a user can read, and the
/// metric's label).</summary>
public readonly record struct RecordingStart(SessionRecorder? Recorder, string? Reason, string? Label)
{
    /// <summary>True when the session is being recorded.</summary>
    public bool Started => Recorder is not null;
}
