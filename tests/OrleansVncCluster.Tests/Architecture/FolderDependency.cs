namespace OrleansVncCluster.Tests.Architecture;

/// <summary>One folder using another, with one place that shows it.</summary>
internal sealed record FolderDependency(string From, string To, string Evidence);
