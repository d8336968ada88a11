namespace OrleansVncCluster.Relay.Rfb;

/// <summary>
/// The relay's policy for what a browser may send: view-only sessions send no input (key, pointer, QEMU key, gii),
/// no clipboard, no resize and no xvp power actions, the same set noVNC's own viewOnly stops plus xvp and gii; clipboard
/// to the VM can be off or capped. Pixel format, encodings, update requests, continuous updates, fences and the
/// clipboard capability announcement always pass, or the session would not draw.
/// </summary>
public sealed class RfbInputPolicy : IRfbClientMessagePolicy
{
    /// <summary>A session that only watches.</summary>
    public bool ViewOnly { get; init; }

    /// <summary>Whether clipboard contents may go from the browser to the VM.</summary>
    public bool ClipboardToServer { get; init; } = true;

    /// <summary>Larger clipboard contents are dropped (skipped, never buffered).</summary>
    public long MaxClipboardBytes { get; init; } = 1024 * 1024;

    /// <inheritdoc/>
    public RfbMessageVerdict Decide(in RfbClientMessage message)
    {
        switch (message.Kind)
        {
            case RfbClientMessageKind.KeyEvent:
            case RfbClientMessageKind.PointerEvent:
            case RfbClientMessageKind.QemuExtendedKeyEvent:
            case RfbClientMessageKind.Gii:
            case RfbClientMessageKind.SetDesktopSize:
            case RfbClientMessageKind.Xvp:
                return ViewOnly ? RfbMessageVerdict.Drop : RfbMessageVerdict.Forward;
            case RfbClientMessageKind.ClientCutText:
                if (message.IsClipboardCapabilities)
                {
                    return RfbMessageVerdict.Forward;
                }

                if (ViewOnly || !ClipboardToServer)
                {
                    return RfbMessageVerdict.Drop;
                }

                return message.CarriesClipboardData && message.ClipboardLength > MaxClipboardBytes ? RfbMessageVerdict.Drop : RfbMessageVerdict.Forward;
            default:
                return RfbMessageVerdict.Forward;
        }
    }
}
