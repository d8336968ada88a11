using OrleansVncCluster.Relay.Tokens;

namespace OrleansVncCluster.Relay.Sources;

/// <summary>What a token file (or directory of them) yields: the usable tokens and the lines that were skipped.</summary>
public sealed record TokenFileContent(IReadOnlyDictionary<string, ConsoleTarget> Tokens, IReadOnlyList<TokenFileError> Errors);
