using System.Diagnostics.CodeAnalysis;
using System.Text;

namespace OrleansVncCluster.Relay.Tokens;

/// <summary>One console token: its target, the VM behind it, and where it came from.</summary>
/// <remarks>The VNC password is held so an embedding page can be given it by an authenticated caller; it is
/// redacted from <see cref="ToString"/> so that logging a token entry can never print it.</remarks>
[GenerateSerializer, Immutable, Alias("vnc.ConsoleTokenEntry")]
public sealed record ConsoleTokenEntry
{
    /// <summary>An entry set field by field (an object initializer).</summary>
    public ConsoleTokenEntry()
    {
    }

    /// <summary>
    /// The copy a <c>with</c> expression makes: every field but the cached fingerprint, which describes the original and
    /// would be wrong for a copy that changes a field.
    /// </summary>
    [SetsRequiredMembers]
    private ConsoleTokenEntry(ConsoleTokenEntry original)
    {
        (Target, Vm, Password, Source, SetAt) = (original.Target, original.Vm, original.Password, original.Source, original.SetAt);
    }

    /// <summary>Where the relay connects.</summary>
    [Id(0)] public required ConsoleTarget Target { get; init; }

    /// <summary>The VM behind the console, when the source knows it.</summary>
    [Id(1)] public VmIdentity? Vm { get; init; }

    /// <summary>The VNC password, when the source provides one. Never logged, never returned by a public endpoint.</summary>
    [Id(2)] public string? Password { get; init; }

    /// <summary>The source that wrote the token ("abiquo", "file:/path", "admin").</summary>
    [Id(3)] public required string Source { get; init; }

    /// <summary>When the token was last written.</summary>
    [Id(4)] public DateTimeOffset SetAt { get; init; }

    /// <summary>
    /// <see cref="TokenTable.Fingerprint"/> of this entry once computed. A re-sync reuses the entries of VMs that did not
    /// change (the Abiquo source keeps its last load), so at 1,000,000 VMs it hashes only what changed instead of every
    /// entry (0.9 s of CPU and as many strings). Not serialized, and not part of equality: it is derived from the fields.
    /// </summary>
    [NonSerialized]
    internal string? CachedFingerprint;

    /// <summary>Equal fields, the cached fingerprint aside.</summary>
    public bool Equals(ConsoleTokenEntry? other) =>
        ReferenceEquals(this, other) || (SameContentAs(other) && SetAt == other!.SetAt);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(Target, Vm, Password, Source, SetAt);

    /// <summary>True when <paramref name="other"/> describes the same console, ignoring when it was written.</summary>
    public bool SameContentAs(ConsoleTokenEntry? other) =>
        other is not null && Target == other.Target && Vm == other.Vm && Password == other.Password && Source == other.Source;

    private bool PrintMembers(StringBuilder builder)
    {
        builder.Append("Target = ").Append(Target).Append(", Vm = ").Append(Vm)
            .Append(", Password = ").Append(Password is null ? "(none)" : "***")
            .Append(", Source = ").Append(Source).Append(", SetAt = ").Append(SetAt.ToString("O"));
        return true;
    }
}
