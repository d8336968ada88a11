namespace OrleansVncCluster.Relay.Node;

/// <summary>
/// Whether this node has registered in the cluster's node directory once since it started. A node is not ready before
/// that (/readyz, <see cref="StartupHeap"/>): the directory is how the cluster finds a node's sessions (the admin
/// session list, closing a session) and where revocations are pushed from, so a node that served before it was listed
/// was missing from <c>GET /api/sessions</c> while its users' sessions ran (found by a test, which read the list right
/// after its session on a just-started node echoed).
/// </summary>
public sealed class DirectoryRegistration
{
    private readonly TaskCompletionSource _done = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>True once the directory took this node's registration.</summary>
    public bool Done => _done.Task.IsCompleted;

    /// <summary>Completes once the directory took this node's registration.</summary>
    public Task WhenDone => _done.Task;

    internal void MarkDone() => _done.TrySetResult();
}
