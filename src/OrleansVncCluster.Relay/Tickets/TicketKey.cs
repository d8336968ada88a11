using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;

namespace OrleansVncCluster.Relay.Tickets;

/// <summary>One ticket secret, as the ring holds it: the derived MAC key (vt1), the derived encryption key (vt2) and its public id.</summary>
public sealed class TicketKey
{
    private const string MacLabel = "vnc-relay console ticket mac";
    private const string IdLabel = "vnc-relay console ticket key id";
    private const string SealLabel = "vnc-relay console ticket vt2 aes-256-gcm";
    private const string ResumeLabel = "vnc-relay console resume vr1 aes-256-gcm";
    private const string PlaybackLabel = "vnc-relay recording playback vp1 aes-256-gcm";

    /// <summary>Bytes of the AES-GCM tag; the full 128 bits (NIST SP 800-38D).</summary>
    internal const int TagBytes = 16;

    /// <summary>Bytes of the AES-GCM nonce; 96 bits, the size GCM is defined for without hashing the IV.</summary>
    internal const int NonceBytes = 12;

    private readonly byte[] _macKey;
    private readonly byte[] _sealKey;
    private readonly byte[] _resumeKey;
    private readonly byte[] _playbackKey;

    /// <summary>Derives the MAC key, the encryption key and the key id from an operator's secret text.</summary>
    public TicketKey(string secret)
    {
        var raw = Encoding.UTF8.GetBytes(secret);
        // Separate derivations for the MAC key and the id, so the id printed in every ticket says nothing about the key.
        _macKey = HMACSHA256.HashData(raw, Encoding.ASCII.GetBytes(MacLabel));
        Id = Base64Url.EncodeToString(HMACSHA256.HashData(raw, Encoding.ASCII.GetBytes(IdLabel)).AsSpan(0, 6));
        // HKDF (RFC 5869) with its own info label: the vt2 key shares nothing with the vt1 MAC key or the key id, so a
        // vt1 ticket (still accepted behind Tickets:AcceptV1Tickets) can tell nothing about the vt2 key.
        _sealKey = HKDF.DeriveKey(HashAlgorithmName.SHA256, raw, 32, salt: [], info: Encoding.ASCII.GetBytes(SealLabel));
        // Resume credentials (ResumeText) get a key of their own too: nothing sealed as a ticket opens as a resume
        // credential or the other way round, whatever their texts look like.
        _resumeKey = HKDF.DeriveKey(HashAlgorithmName.SHA256, raw, 32, salt: [], info: Encoding.ASCII.GetBytes(ResumeLabel));
        // And playback tickets (PlaybackText): a credential to watch a recording opens no console, and no console
        // credential opens a recording.
        _playbackKey = HKDF.DeriveKey(HashAlgorithmName.SHA256, raw, 32, salt: [], info: Encoding.ASCII.GetBytes(PlaybackLabel));
        CryptographicOperations.ZeroMemory(raw);
    }

    /// <summary>8 URL-safe characters naming the key in tickets, logs and metrics; derived, so every node agrees.</summary>
    public string Id { get; }

    internal void Mac(ReadOnlySpan<byte> signed, Span<byte> mac) => HMACSHA256.HashData(_macKey, signed, mac);

    /// <summary>Encrypts and authenticates <paramref name="plaintext"/>: nonce, ciphertext and tag, in that order.</summary>
    internal byte[] Seal(ReadOnlySpan<byte> plaintext, ReadOnlySpan<byte> associated) => Seal(_sealKey, plaintext, associated);

    /// <summary>The plaintext of a sealed ticket body, or null when it was not sealed under this key with this associated data.</summary>
    internal byte[]? Open(ReadOnlySpan<byte> sealedBytes, ReadOnlySpan<byte> associated) => Open(_sealKey, sealedBytes, associated);

    /// <summary>Seals a resume credential's body under the resume key.</summary>
    internal byte[] SealResume(ReadOnlySpan<byte> plaintext, ReadOnlySpan<byte> associated) => Seal(_resumeKey, plaintext, associated);

    /// <summary>Opens a resume credential's body; null when it was not sealed under this key's resume key.</summary>
    internal byte[]? OpenResume(ReadOnlySpan<byte> sealedBytes, ReadOnlySpan<byte> associated) => Open(_resumeKey, sealedBytes, associated);

    /// <summary>Seals a playback ticket's body under the playback key.</summary>
    internal byte[] SealPlayback(ReadOnlySpan<byte> plaintext, ReadOnlySpan<byte> associated) => Seal(_playbackKey, plaintext, associated);

    /// <summary>Opens a playback ticket's body; null when it was not sealed under this key's playback key.</summary>
    internal byte[]? OpenPlayback(ReadOnlySpan<byte> sealedBytes, ReadOnlySpan<byte> associated) => Open(_playbackKey, sealedBytes, associated);

    private static byte[] Seal(byte[] sealKey, ReadOnlySpan<byte> plaintext, ReadOnlySpan<byte> associated)
    {
        var sealedBytes = new byte[NonceBytes + plaintext.Length + TagBytes];
        var nonce = sealedBytes.AsSpan(0, NonceBytes);
        // A random 96-bit nonce per ticket: collisions stay negligible far beyond the tickets one secret ever signs
        // (NIST's 2^32 invocations bound), and no counter has to be shared between nodes.
        RandomNumberGenerator.Fill(nonce);
        using var gcm = new AesGcm(sealKey, TagBytes);
        gcm.Encrypt(nonce, plaintext, sealedBytes.AsSpan(NonceBytes, plaintext.Length), sealedBytes.AsSpan(NonceBytes + plaintext.Length), associated);
        return sealedBytes;
    }

    private static byte[]? Open(byte[] sealKey, ReadOnlySpan<byte> sealedBytes, ReadOnlySpan<byte> associated)
    {
        if (sealedBytes.Length < NonceBytes + TagBytes)
        {
            return null;
        }

        var plaintext = new byte[sealedBytes.Length - NonceBytes - TagBytes];
        try
        {
            using var gcm = new AesGcm(sealKey, TagBytes);
            gcm.Decrypt(sealedBytes[..NonceBytes], sealedBytes.Slice(NonceBytes, plaintext.Length), sealedBytes[^TagBytes..], plaintext, associated);
            return plaintext;
        }
        catch (AuthenticationTagMismatchException)
        {
            return null;
        }
    }
}
