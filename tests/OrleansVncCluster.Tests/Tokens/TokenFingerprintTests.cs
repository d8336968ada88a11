using System.Security.Cryptography;
using System.Text;
using OrleansVncCluster.Relay.Tokens;

namespace OrleansVncCluster.Tests.Tokens;

/// <summary>
/// Fingerprints are stored in every source's index: one that changed with a release would make the next sync rewrite
/// every token of every source through its grain.
/// </summary>
public sealed class TokenFingerprintTests
{
    /// <summary>The stored definition, written out plainly: SHA-256 of the fields joined by U+001F, 12 bytes, base64.</summary>
    private static string Stored(ConsoleTokenEntry entry)
    {
        var text = string.Join('\u001f', entry.Target.Host, entry.Target.Port, entry.Target.UnixSocket, entry.Vm?.Id, entry.Vm?.Name,
            entry.Vm?.Label, entry.Vm?.Enterprise, entry.Vm?.Hypervisor, entry.Password, entry.Source);
        return Convert.ToBase64String(SHA256.HashData(Encoding.UTF8.GetBytes(text))[..12]);
    }

    public static TheoryData<string, ConsoleTokenEntry> Entries() => new()
    {
        { "tcp, no VM", new ConsoleTokenEntry { Target = ConsoleTarget.Tcp("10.0.0.1", 5901), Source = "tokens.txt" } },
        { "unix socket", new ConsoleTokenEntry { Target = ConsoleTarget.Unix("/run/vnc/vm-7.sock"), Source = "file" } },
        {
            "Abiquo VM with password and non-ASCII names",
            new ConsoleTokenEntry
            {
                Target = ConsoleTarget.Tcp("10.60.3.4", 5907), Password = "s3cr\u00e9t", Source = "abiquo",
                Vm = new VmIdentity { Id = "4711", Name = "ABQ_6d1f", Label = "Datenbank \u00fc\u00df \u65e5\u672c", Enterprise = "M\u00fcller & S\u00f6hne", Hypervisor = "kvm-03" },
            }
        },
        {
            "fields longer than the stack buffer",
            new ConsoleTokenEntry
            {
                Target = ConsoleTarget.Tcp("host.example", 5900), Source = "abiquo",
                Vm = new VmIdentity { Id = "1", Label = new string('\u00e9', 300), Enterprise = new string('x', 200) },
            }
        },
    };

    [Theory]
    [MemberData(nameof(Entries))]
    public void TheFingerprint_IsTheStoredDefinition(string name, ConsoleTokenEntry entry)
    {
        Assert.False(string.IsNullOrEmpty(name));
        Assert.Equal(Stored(entry), TokenTable.Fingerprint(entry));
    }

    [Fact]
    public void AnyFieldButTheWriteTime_ChangesTheFingerprint()
    {
        var entry = new ConsoleTokenEntry
        {
            Target = ConsoleTarget.Tcp("10.0.0.1", 5901), Source = "abiquo", Vm = new VmIdentity { Id = "1", Enterprise = "A" },
        };

        Assert.Equal(TokenTable.Fingerprint(entry), TokenTable.Fingerprint(entry with { SetAt = DateTimeOffset.UnixEpoch }));
        Assert.NotEqual(TokenTable.Fingerprint(entry), TokenTable.Fingerprint(entry with { Target = ConsoleTarget.Tcp("10.0.0.1", 5902) }));
        Assert.NotEqual(TokenTable.Fingerprint(entry), TokenTable.Fingerprint(entry with { Password = "p" }));
        Assert.NotEqual(TokenTable.Fingerprint(entry), TokenTable.Fingerprint(entry with { Vm = entry.Vm! with { Enterprise = "B" } }));
    }

    [Fact]
    public void AComputedFingerprint_IsNoPartOfTheEntrysEquality()
    {
        var entry = new ConsoleTokenEntry { Target = ConsoleTarget.Tcp("10.0.0.1", 5901), Source = "abiquo", Vm = new VmIdentity { Id = "1" } };
        var twin = entry with { };

        _ = TokenTable.Fingerprint(entry);

        Assert.Equal(twin, entry);
        Assert.Equal(twin.GetHashCode(), entry.GetHashCode());
        Assert.NotEqual(entry, entry with { SetAt = DateTimeOffset.UnixEpoch });
        Assert.Equal(Stored(twin), TokenTable.Fingerprint(twin));
    }

    /// <summary>The entry's copy constructor, equality and hash are written by hand (the cached fingerprint must stay out
    /// of them): a stored field added later and missed in one of them fails here.</summary>
    [Fact]
    public void EveryStoredField_IsCopiedByWith_AndTellsEntriesApart()
    {
        var other = new Dictionary<Type, object>
        {
            [typeof(ConsoleTarget)] = ConsoleTarget.Tcp("10.0.0.2", 5902),
            [typeof(VmIdentity)] = new VmIdentity { Id = "2" },
            [typeof(string)] = "other",
            [typeof(DateTimeOffset)] = DateTimeOffset.MaxValue,
        };
        var entry = new ConsoleTokenEntry
        {
            Target = ConsoleTarget.Tcp("10.0.0.1", 5901), Vm = new VmIdentity { Id = "1" }, Password = "p", Source = "abiquo", SetAt = DateTimeOffset.UnixEpoch,
        };
        var stored = typeof(ConsoleTokenEntry).GetProperties().Where(p => p.GetCustomAttributes(typeof(IdAttribute), false).Length > 0).ToList();

        var copy = entry with { };

        Assert.NotEmpty(stored);
        Assert.Equal(entry, copy);
        Assert.Equal(entry.GetHashCode(), copy.GetHashCode());
        foreach (var property in stored)
        {
            Assert.Equal(property.GetValue(entry), property.GetValue(copy));
            var changed = entry with { };
            property.SetValue(changed, other[property.PropertyType]);
            Assert.NotEqual(entry, changed);
        }
    }
}
