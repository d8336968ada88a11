using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using OrleansVncCluster.Relay.Tokens;

namespace OrleansVncCluster.Relay.Tickets;

/// <summary>
/// What ties a vt2 ticket to one VM rather than to an address: for a token whose source knows the VM (Abiquo), the VM's
/// id and enterprise; otherwise (token files, the admin API) the token's entry itself, its source and target. An md5
/// token names an address, and Abiquo reuses addresses: the same token may lead to another tenant's VM tomorrow, and
/// the binding is how the relay notices.
/// </summary>
public static class TicketBinding
{
    /// <summary>A short digest of what the entry's console belongs to; equal digests mean the same VM.</summary>
    public static string Of(ConsoleTokenEntry entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        // Unit separators between fields, so no id or name can be shaped to collide with another split.
        var text = entry.Vm?.Id is { Length: > 0 } id
            ? string.Join('\u001f', "vm", id, entry.Vm.Enterprise ?? "")
            : string.Join('\u001f', "entry", entry.Source, entry.Target.ToString());
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(Encoding.UTF8.GetBytes(text), hash);
        return Base64Url.EncodeToString(hash[..16]);
    }

    /// <summary>True when the ticket may open <paramref name="entry"/>: always for a vt1 ticket (it names no VM).</summary>
    public static bool Matches(ConsoleTicket ticket, ConsoleTokenEntry entry)
    {
        ArgumentNullException.ThrowIfNull(ticket);
        return ticket.Binding is not { } binding || string.Equals(binding, Of(entry), StringComparison.Ordinal);
    }
}
