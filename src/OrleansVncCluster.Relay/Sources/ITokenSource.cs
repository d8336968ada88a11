using OrleansVncCluster.Relay.Tokens;

namespace OrleansVncCluster.Relay.Sources;

/// <summary>
/// Somewhere console tokens come from. The sync grain asks each source for the whole set it wants now and applies the
/// difference through <see cref="TokenTable"/> under the source's <see cref="Name"/>; a source that throws leaves its
/// tokens as they were.
/// </summary>
public interface ITokenSource
{
    /// <summary>The token table source name (e.g. "abiquo"); each source owns the tokens it wrote under this name.</summary>
    string Name { get; }

    /// <summary>Every token the source wants to exist, keyed by token. Throws when the source cannot say.</summary>
    Task<IReadOnlyDictionary<string, ConsoleTokenEntry>> LoadAsync(CancellationToken cancellationToken);
}
