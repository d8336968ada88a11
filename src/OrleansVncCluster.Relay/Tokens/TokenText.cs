using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Unicode;

namespace OrleansVncCluster.Relay.Tokens;

/// <summary>Console token helpers shared by the relay, the sources and the logs.</summary>
public static class TokenText
{
    /// <summary>Longest token accepted from a client; websockify has no limit, but nothing legitimate is longer.</summary>
    public const int MaxLength = 256;

    /// <summary>
    /// The legacy Abiquo token: lowercase hex md5 of "IP:PORT" (the Ruby cron job and Abiquo's tightvnc.html compute it
    /// the same way, so both sides agree without talking to each other).
    /// </summary>
    public static string Md5Token(string host, int port)
    {
        Span<char> token = stackalloc char[Md5TokenLength];
        WriteMd5Token(host, port, token);
        return new string(token);
    }

    /// <summary>The length of an <see cref="Md5Token"/>: 32 hex digits.</summary>
    public const int Md5TokenLength = 32;

    /// <summary><see cref="Md5Token"/> into <paramref name="destination"/> (<see cref="Md5TokenLength"/> characters), so a
    /// sync can look a token up without making its string.</summary>
    public static void WriteMd5Token(string host, int port, Span<char> destination)
    {
        Span<byte> hash = stackalloc byte[16];
        // A sync hashes 1,000,000 addresses at once: short ones are formatted on the stack, with no string or array each.
        Span<byte> address = stackalloc byte[256];
        if (Utf8.TryWrite(address, CultureInfo.InvariantCulture, $"{host}:{port}", out var written))
        {
            MD5.HashData(address[..written], hash);
        }
        else
        {
            MD5.HashData(Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture, $"{host}:{port}")), hash);
        }

        Convert.TryToHexStringLower(hash, destination, out _);
    }

    /// <summary>
    /// True for a token the relay will look up: 1 to <see cref="MaxLength"/> printable ASCII characters without spaces.
    /// Anything else is refused before it reaches a grain, so garbage cannot create grain activations.
    /// </summary>
    public static bool IsWellFormed(ReadOnlySpan<char> token)
    {
        if (token.IsEmpty || token.Length > MaxLength)
        {
            return false;
        }

        foreach (var c in token)
        {
            if (c <= ' ' || c > '~')
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>
    /// At most the first 8 characters, and never more than half of the token: all of a token that logs ever show.
    /// </summary>
    public static string ForLog(string? token) =>
        string.IsNullOrEmpty(token) ? "(none)" : string.Concat(token.AsSpan(0, Math.Min(8, token.Length / 2)), "…");
}
