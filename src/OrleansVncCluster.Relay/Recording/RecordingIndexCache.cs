using Microsoft.Extensions.Options;

namespace OrleansVncCluster.Relay.Recording;

/// <summary>
/// The indexes of the recordings played lately, most recently used first, at most <see cref="PlaybackOptions.IndexCacheSize"/>:
/// every seek is a new connection, and scanning an hour's headers again for each would cost more than the seek itself.
/// An entry is used only while its file has the length it was indexed at, so a recording still being written is
/// indexed again when it grew.
/// </summary>
public sealed class RecordingIndexCache(IOptionsMonitor<PlaybackOptions> options)
{
    private readonly Lock _lock = new();
    private readonly LinkedList<(string Id, RecordingIndex Index)> _recent = new();

    /// <summary>The index of recording <paramref name="recordingId"/> read from <paramref name="stream"/> (or cached for it).</summary>
    public RecordingIndex Get(string recordingId, Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        lock (_lock)
        {
            for (var node = _recent.First; node is not null; node = node.Next)
            {
                if (node.Value.Id == recordingId)
                {
                    _recent.Remove(node);
                    if (node.Value.Index.Length == stream.Length)
                    {
                        _recent.AddFirst(node);
                        return node.Value.Index;
                    }

                    break;
                }
            }
        }

        var index = RecordingIndex.Build(stream);
        lock (_lock)
        {
            _recent.AddFirst((recordingId, index));
            while (_recent.Count > options.CurrentValue.IndexCacheSize)
            {
                _recent.RemoveLast();
            }
        }

        return index;
    }
}
