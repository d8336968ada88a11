namespace OrleansVncCluster.Relay.Recording;

/// <summary>What an <see cref="RecordingInput"/> was. The numbers are the format: never renumber, only add.</summary>
public enum RecordingInputKind : byte
{
    /// <summary>A KeyEvent; the value is the keysym only when key values are kept, else 0.</summary>
    Key = 1,

    /// <summary>A PointerEvent: button mask, x and y.</summary>
    Pointer = 2,

    /// <summary>Clipboard text towards the VM; the value is its length in bytes, never its content.</summary>
    ClipboardToVm = 3,

    /// <summary>Clipboard text from the VM; the value is its length in bytes, never its content.</summary>
    ClipboardFromVm = 4,
}
