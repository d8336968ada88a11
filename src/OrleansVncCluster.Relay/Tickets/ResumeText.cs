using System.Buffers.Binary;
using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using OrleansVncCluster.Relay.Tokens;

namespace OrleansVncCluster.Relay.Tickets;

/// <summary>
/// The resume credential (issue 13, item 7): what lets a console page come back, without its ticket and without asking
/// anybody, after its node drained or died. <c>vr1.KEYID.SEALED</c>, sealed like a vt2 ticket (AES-256-GCM, 12-byte
/// nonce first, 16-byte tag last, associated data the ASCII text <c>vr1.KEYID.</c>) but under a key of its own derived
/// from the same ticket secret (<see cref="TicketKey"/>), so a resume credential never opens as a ticket nor a ticket as
/// a resume credential. The body: expiry (unix seconds, 8 bytes big-endian), flags (1 byte: bit 1 view only, bits 2 and
/// 3 the clipboard, bit 4 may share and bit 5 record, as in a vt2 ticket), then five fields of a 2-byte big-endian length and UTF-8 text: the session it
/// resumes, the VM token, the VM binding (<see cref="TicketBinding"/>), the VM id, the user. It is never single-use and lives
/// <see cref="TicketOptions.ResumeWindow"/>; the page's presence call renews it while its session lives.
/// </summary>
public static class ResumeText
{
    /// <summary>Every resume credential starts with this; no ticket (vt1., vt2.) and no md5 token does.</summary>
    public const string Prefix = "vr1.";

    /// <summary>Longest credential text read (a ticket's limit: it carries what the ticket carried, and a session id).</summary>
    public const int MaxLength = TicketText.MaxLength + 64;

    /// <summary>Longest session id a credential carries.</summary>
    public const int MaxSessionIdLength = 32;

    private const int FixedBodyBytes = 8 + 1;
    private const byte ViewOnlyFlag = 2;
    private const byte MayShareFlag = 16;
    private const byte RecordFlag = 32;
    private const int FieldCount = 5;

    /// <summary>True when <paramref name="text"/> claims to be a resume credential (whether or not it verifies).</summary>
    public static bool LooksLikeResume(string? text) => text is not null && text.StartsWith(Prefix, StringComparison.Ordinal);

    /// <summary>Seals a resume credential for <paramref name="grant"/> (its <see cref="ConsoleTicket.ResumedSession"/>, token,
    /// binding, VM id, user, role and clipboard), valid until <paramref name="expiresAt"/>.</summary>
    public static string Issue(TicketKey key, ConsoleTicket grant, DateTimeOffset expiresAt)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(grant);
        ArgumentException.ThrowIfNullOrEmpty(grant.ResumedSession);
        ArgumentException.ThrowIfNullOrEmpty(grant.Binding);
        if (grant.ResumedSession.Length > MaxSessionIdLength || !TokenText.IsWellFormed(grant.Token))
        {
            throw new ArgumentException("a resume credential carries a well-formed token and a short session id", nameof(grant));
        }

        Span<byte> head = stackalloc byte[FixedBodyBytes];
        BinaryPrimitives.WriteInt64BigEndian(head, expiresAt.ToUnixTimeSeconds());
        head[8] = (byte)((grant.ViewOnly ? ViewOnlyFlag : 0) | ClipboardText.ToFlags(grant.Clipboard) | (grant.MayShare && !grant.ViewOnly ? MayShareFlag : 0)
            | (grant.Record ? RecordFlag : 0));
        var body = SealedText.Body(head, [grant.ResumedSession, grant.Token, grant.Binding, grant.VmId ?? "", grant.User ?? ""]);
        return SealedText.Seal(Prefix, key, body, (plain, associated) => key.SealResume(plain, associated));
    }

    /// <summary>
    /// Verifies a presented resume credential: shape, key, authentication, then expiry. What it grants comes back as a
    /// <see cref="ConsoleTicket"/> that is never single-use and names the session it resumes, so admission treats it as
    /// the ticket it stands for (VM binding check, role, user). Never throws on any input.
    /// </summary>
    public static TicketStatus Verify(string? text, Func<string, TicketKey?> findKey, DateTimeOffset now, out ConsoleTicket? grant)
    {
        ArgumentNullException.ThrowIfNull(findKey);
        grant = null;
        if (text is null || text.Length > MaxLength || !text.StartsWith(Prefix, StringComparison.Ordinal))
        {
            return TicketStatus.Malformed;
        }

        var opened = SealedText.Open(text, Prefix, findKey, (key, sealedBytes, associated) => key.OpenResume(sealedBytes, associated), out var keyId, out var body);
        if (opened != TicketStatus.Valid)
        {
            return opened;
        }

        try
        {
            if (body!.Length < FixedBodyBytes || !SealedText.TryReadFields(body.AsSpan(FixedBodyBytes), FieldCount, out var fields)
                || fields[0].Length is 0 or > MaxSessionIdLength || !TokenText.IsWellFormed(fields[1]) || fields[2].Length == 0)
            {
                return TicketStatus.Malformed;
            }

            var expiresAt = DateTimeOffset.FromUnixTimeSeconds(Math.Clamp(BinaryPrimitives.ReadInt64BigEndian(body),
                DateTimeOffset.MinValue.ToUnixTimeSeconds(), DateTimeOffset.MaxValue.ToUnixTimeSeconds()));
            grant = new ConsoleTicket(keyId, fields[1], expiresAt, fields[0], SingleUse: false, ViewOnly: (body[8] & ViewOnlyFlag) != 0)
            {
                Version = 2,
                Binding = fields[2],
                VmId = fields[3].Length > 0 ? fields[3] : null,
                User = fields[4].Length > 0 ? fields[4] : null,
                ResumedSession = fields[0],
                Clipboard = ClipboardText.FromFlags(body[8]),
                MayShare = (body[8] & (MayShareFlag | ViewOnlyFlag)) == MayShareFlag,
                Record = (body[8] & RecordFlag) != 0,
            };
            return now >= expiresAt ? TicketStatus.Expired : TicketStatus.Valid;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(body);
        }
    }
}
