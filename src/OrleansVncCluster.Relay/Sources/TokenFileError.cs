namespace OrleansVncCluster.Relay.Sources;

/// <summary>A line of a token file that could not be used, with where it is so an operator can fix it.</summary>
public sealed record TokenFileError(string File, int Line, string Message);
