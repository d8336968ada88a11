using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;

namespace OrleansVncCluster.Relay.Tickets;

/// <summary>One signing secret, as the ring holds it: the derived MAC key and its public id.</summary>
public sealed class TicketKey
{
    private const string MacLabel = "vnc-relay console ticket mac";
    private const string IdLabel = "vnc-relay console ticket key id";

    private readonly byte[] _macKey;

    /// <summary>Derives the MAC key and the key id from an operator's secret text.</summary>
    public TicketKey(string secret)
    {
        var raw = Encoding.UTF8.GetBytes(secret);
        // Separate derivations for the MAC key and the id, so the id printed in every ticket says nothing about the key.
        _macKey = HMACSHA256.HashData(raw, Encoding.ASCII.GetBytes(MacLabel));
        Id = Base64Url.EncodeToString(HMACSHA256.HashData(raw, Encoding.ASCII.GetBytes(IdLabel)).AsSpan(0, 6));
        CryptographicOperations.ZeroMemory(raw);
    }

    /// <summary>8 URL-safe characters naming the key in tickets, logs and metrics; derived, so every node agrees.</summary>
    public string Id { get; }

    internal void Mac(ReadOnlySpan<byte> signed, Span<byte> mac) => HMACSHA256.HashData(_macKey, signed, mac);
}
