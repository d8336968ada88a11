using Microsoft.Extensions.Options;

namespace OrleansVncCluster.Tests.Tickets;

/// <summary>Options that a test sets directly; changes are not announced (the key ring re-reads files on its own).</summary>
internal sealed class TestOptions<T>(T value) : IOptionsMonitor<T>
{
    public T CurrentValue { get; set; } = value;

    public T Get(string? name) => CurrentValue;

    public IDisposable? OnChange(Action<T, string?> listener) => null;
}

/// <summary>A wall clock the test moves; timestamps stay real so rate limits still tick.</summary>
internal sealed class ManualClock(DateTimeOffset start) : TimeProvider
{
    public DateTimeOffset Now { get; set; } = start;

    public override DateTimeOffset GetUtcNow() => Now;
}

/// <summary>Secret files in a fresh directory, written the way an operator writes them.</summary>
internal sealed class SecretFiles : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("tickets-").FullName;

    public string Write(string name, string secret, DateTimeOffset? writtenAt = null)
    {
        var path = Path.Combine(_directory, name);
        File.WriteAllText(path, secret + "\n");
        if (writtenAt is { } at)
        {
            File.SetLastWriteTimeUtc(path, at.UtcDateTime);
        }

        return path;
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);
}
