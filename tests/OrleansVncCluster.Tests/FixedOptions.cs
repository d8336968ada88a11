using Microsoft.Extensions.Options;

namespace OrleansVncCluster.Tests;

/// <summary>Options that never change, for the services under test that watch theirs.</summary>
internal sealed class FixedOptions<TOptions>(TOptions value) : IOptionsMonitor<TOptions>
{
    public TOptions CurrentValue => value;

    public TOptions Get(string? name) => value;

    public IDisposable? OnChange(Action<TOptions, string?> listener) => null;
}
