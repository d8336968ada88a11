namespace OrleansVncCluster.Relay.Admission;

/// <summary>What a WebSocket upgrade request asks for, read the way websockify and nova read it.</summary>
public static class Handshake
{
    /// <summary>The one subprotocol we speak; noVNC before 1.2 offers it, later versions offer none.</summary>
    public const string BinarySubprotocol = "binary";

    /// <summary>
    /// The console token: the FIRST <c>token</c> query value (percent-decoded, trailing newline stripped, as websockify
    /// does), else a <c>token</c> cookie (nova's fallback, used by old noVNC pages and Abiquo's).
    /// </summary>
    public static string? ReadToken(HttpRequest request)
    {
        if (request.Query.TryGetValue("token", out var values) && values.Count > 0)
        {
            return values[0]?.TrimEnd('\n', '\r');
        }

        return request.Cookies.TryGetValue("token", out var cookie) ? cookie : null;
    }

    /// <summary>
    /// Answers "binary" when the client offered it anywhere in its list (trimmed: websockify does not trim and fails
    /// "base64, binary"); otherwise no subprotocol, and never one the client did not offer (RFC 6455 section 4.2.2).
    /// </summary>
    public static string? ChooseSubprotocol(IEnumerable<string> offered)
    {
        foreach (var header in offered)
        {
            foreach (var item in header.Split(','))
            {
                if (item.Trim().Equals(BinarySubprotocol, StringComparison.Ordinal))
                {
                    return BinarySubprotocol;
                }
            }
        }

        return null;
    }
}
