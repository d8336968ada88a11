using System.Text;

namespace OrleansVncCluster.Relay.Diagnostics;

/// <summary>WebSocket close reasons, for every socket the node closes (sessions, refusals, playback).</summary>
public static class CloseReasonText
{
    /// <summary>A close reason fits a close frame: at most 123 bytes of UTF-8 (RFC 6455 section 5.5), cut at a character.</summary>
    public static string Fit(string reason)
    {
        const int MaxBytes = 123;
        if (Encoding.UTF8.GetByteCount(reason) <= MaxBytes)
        {
            return reason;
        }

        var length = reason.Length;
        while (length > 0 && Encoding.UTF8.GetByteCount(reason.AsSpan(0, length)) > MaxBytes - 3)
        {
            length--;
        }

        if (length > 0 && char.IsHighSurrogate(reason[length - 1]))
        {
            length--;
        }

        return string.Concat(reason.AsSpan(0, length), "...");
    }
}
