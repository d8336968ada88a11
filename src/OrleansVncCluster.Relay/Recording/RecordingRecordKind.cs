namespace OrleansVncCluster.Relay.Recording;

/// <summary>The kinds of record in a recording file (docs/RECORDING.md, "The file format"). The numbers are the format:
/// never renumber, only add.</summary>
public enum RecordingRecordKind : byte
{
    /// <summary>UTF-8 JSON: who, which VM, which node, when, and the recording's settings. The first record.</summary>
    Metadata = 1,

    /// <summary>The ServerInit message exactly as the browser saw it (the relay's own handshake when it logged in).</summary>
    ServerInit = 2,

    /// <summary>Server-to-browser bytes after ServerInit, as relayed. Chunk boundaries carry no meaning.</summary>
    ServerData = 3,

    /// <summary>The next ServerData byte starts a FramebufferUpdate that answers a full (non-incremental) request for the
    /// whole screen, so playback can start here with only the ServerInit and the last ClientSetup records. Empty, or the
    /// screen's size then (U16 width, U16 height) when the server resized it since ServerInit.</summary>
    Keyframe = 4,

    /// <summary>A SetPixelFormat or SetEncodings message as it was forwarded to the server: how the server data that
    /// follows is encoded.</summary>
    ClientSetup = 5,

    /// <summary>When the user gave input (<see cref="RecordingInput"/>): key, pointer or clipboard, never key values unless
    /// the recording says it keeps them.</summary>
    Input = 6,

    /// <summary>UTF-8 JSON: how the session ended (close code and reason). The last record of a complete recording; a
    /// recording cut by a node's death has none.</summary>
    End = 7,
}
