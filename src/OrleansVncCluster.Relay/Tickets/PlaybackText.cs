using System.Buffers.Binary;
using System.Security.Cryptography;

namespace OrleansVncCluster.Relay.Tickets;

/// <summary>
/// The playback ticket (issue 14): what lets one page watch one recording, <c>vp1.KEYID.SEALED</c>, sealed like a
/// resume credential (<see cref="ResumeText"/>) but under a key of its own derived from the same ticket secret
/// (<see cref="TicketKey"/>), so it never opens a console and no console ticket or resume credential opens a recording.
/// The body: expiry (unix seconds, 8 bytes big-endian), then two fields of a 2-byte big-endian length and UTF-8 text:
/// the recording id and the administrator's name for the viewer (may be empty). It is never single-use: the page
/// reconnects for every seek, pause and change of speed.
/// </summary>
public static class PlaybackText
{
    /// <summary>Every playback ticket starts with this; no console ticket, resume credential or md5 token does.</summary>
    public const string Prefix = "vp1.";

    /// <summary>Longest playback ticket text read.</summary>
    public const int MaxLength = 512;

    /// <summary>Longest recording id a ticket carries.</summary>
    public const int MaxRecordingIdLength = 64;

    private const int FixedBodyBytes = 8;
    private const int FieldCount = 2;

    /// <summary>True when <paramref name="text"/> claims to be a playback ticket (whether or not it verifies).</summary>
    public static bool LooksLikePlayback(string? text) => text is not null && text.StartsWith(Prefix, StringComparison.Ordinal);

    /// <summary>Seals a playback ticket for <paramref name="recordingId"/>, valid until <paramref name="expiresAt"/>.</summary>
    public static string Issue(TicketKey key, string recordingId, string? viewer, DateTimeOffset expiresAt)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentException.ThrowIfNullOrEmpty(recordingId);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(recordingId.Length, MaxRecordingIdLength);
        Span<byte> head = stackalloc byte[FixedBodyBytes];
        BinaryPrimitives.WriteInt64BigEndian(head, expiresAt.ToUnixTimeSeconds());
        var body = SealedText.Body(head, [recordingId, viewer ?? ""]);
        return SealedText.Seal(Prefix, key, body, (plain, associated) => key.SealPlayback(plain, associated));
    }

    /// <summary>Verifies a presented playback ticket: shape, key, authentication, then expiry. The recording it names
    /// comes back even when it expired (for the log), never when it did not authenticate. Never throws on any input.</summary>
    public static TicketStatus Verify(string? text, Func<string, TicketKey?> findKey, DateTimeOffset now, out PlaybackGrant? grant)
    {
        ArgumentNullException.ThrowIfNull(findKey);
        grant = null;
        if (text is null || text.Length > MaxLength || !text.StartsWith(Prefix, StringComparison.Ordinal))
        {
            return TicketStatus.Malformed;
        }

        var opened = SealedText.Open(text, Prefix, findKey, (key, sealedBytes, associated) => key.OpenPlayback(sealedBytes, associated), out _, out var body);
        if (opened != TicketStatus.Valid)
        {
            return opened;
        }

        try
        {
            if (body!.Length < FixedBodyBytes || !SealedText.TryReadFields(body.AsSpan(FixedBodyBytes), FieldCount, out var fields)
                || fields[0].Length is 0 or > MaxRecordingIdLength)
            {
                return TicketStatus.Malformed;
            }

            var expiresAt = DateTimeOffset.FromUnixTimeSeconds(Math.Clamp(BinaryPrimitives.ReadInt64BigEndian(body),
                DateTimeOffset.MinValue.ToUnixTimeSeconds(), DateTimeOffset.MaxValue.ToUnixTimeSeconds()));
            grant = new PlaybackGrant(fields[0], fields[1].Length > 0 ? fields[1] : null, expiresAt);
            return now >= expiresAt ? TicketStatus.Expired : TicketStatus.Valid;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(body);
        }
    }
}
