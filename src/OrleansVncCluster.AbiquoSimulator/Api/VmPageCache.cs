namespace OrleansVncCluster.AbiquoSimulator.Api;

/// <summary>
/// Enterprises' VM lists as they were written, kept while the inventory they were written from stays as it was: the
/// next read of the same list is sent as it is instead of being written again.
/// </summary>
/// <remarks>
/// The bench runs the simulator on the node's 2 cores, where a real Abiquo never is. Writing a 100,000-VM inventory
/// cost it 0.66-0.95 s of CPU a read, in the sync's load phase, beside the sessions the bench measures; with the lists
/// kept, a read costs about what the kernel takes to send them. A list is kept per enterprise, page and base URL (what
/// its bytes depend on) with the world's <see cref="World.SimWorld.Mutations"/> it was written at: any change to the
/// world makes every kept list stale, and stale ones go when the next one is kept. Bounded: a list that would take the
/// total over <c>maxBytes</c> is sent but not kept.
/// </remarks>
/// <param name="maxBytes">The most bytes of lists kept at once.</param>
public sealed class VmPageCache(long maxBytes)
{
    /// <summary>Room for a 1,000,000-VM inventory (about 770 MB) and a little more.</summary>
    public const long DefaultMaxBytes = 1L << 30;

    private readonly Lock _gate = new();
    private readonly Dictionary<Key, Kept> _lists = [];
    private long _served;

    /// <summary>Lists sent from what was kept.</summary>
    public long Served => Interlocked.Read(ref _served);

    /// <summary>Bytes kept now.</summary>
    public long Bytes
    {
        get
        {
            lock (_gate)
            {
                return KeptBytes();
            }
        }
    }

    /// <summary>The kept bytes of a list written at <paramref name="revision"/>, or null.</summary>
    public byte[]? Find(Key key, int revision)
    {
        Kept? kept;
        lock (_gate)
        {
            if (!_lists.TryGetValue(key, out kept) || kept.Revision != revision)
            {
                return null;
            }
        }

        Interlocked.Increment(ref _served);
        return kept.Body;
    }

    /// <summary>Keeps <paramref name="body"/>, written from the world at <paramref name="revision"/>, unless the world has
    /// changed since (a newer list is kept) or it does not fit.</summary>
    public void Keep(Key key, int revision, byte[] body)
    {
        lock (_gate)
        {
            if (_lists.Values.Any(kept => kept.Revision > revision))
            {
                return;
            }

            // Lists of an older world will never be sent again.
            foreach (var stale in _lists.Where(pair => pair.Value.Revision < revision || pair.Key == key).Select(pair => pair.Key).ToList())
            {
                _lists.Remove(stale);
            }

            if (KeptBytes() + body.Length <= maxBytes)
            {
                _lists[key] = new Kept(revision, body);
            }
        }
    }

    /// <summary>Summed when asked: a world's lists are one per enterprise, a hundred at most in the bench.</summary>
    private long KeptBytes() => _lists.Values.Sum(kept => (long)kept.Body.Length);

    /// <summary>What a list's bytes depend on besides the world: which list, which page of it, and the base URL of its hrefs.</summary>
    public readonly record struct Key(int EnterpriseId, bool Paged, int Start, int? Count, string BaseUrl);

    private sealed record Kept(int Revision, byte[] Body);
}
