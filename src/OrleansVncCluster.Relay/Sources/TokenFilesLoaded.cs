using Microsoft.Extensions.Options;
using OrleansVncCluster.Relay.Tokens;

namespace OrleansVncCluster.Relay.Sources;

/// <summary>
/// Whether this node's token files (Tokens:Files) have each been read once since it started, successfully or not. A node
/// is not ready before that (/readyz): in embedded mode, or for tokens only its own files bring, it would answer every
/// console 4404 "unknown token" for the second or so between its silo turning Active and its first load, which a
/// balancer would send it at once (found by the bench's cold-node workload: 200 of 200 first sessions refused).
/// </summary>
public sealed class TokenFilesLoaded(IOptions<TokenOptions> options)
{
    private readonly TaskCompletionSource _done = Completed(options.Value.Files.Count == 0);

    /// <summary>True once every token file was read once (at once when there are none).</summary>
    public bool Done => _done.Task.IsCompleted;

    /// <summary>Completes once every token file was read once.</summary>
    public Task WhenDone => _done.Task;

    internal void MarkDone() => _done.TrySetResult();

    private static TaskCompletionSource Completed(bool done)
    {
        var source = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        if (done)
        {
            source.SetResult();
        }

        return source;
    }
}
