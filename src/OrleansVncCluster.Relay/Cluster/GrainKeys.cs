namespace OrleansVncCluster.Relay.Cluster;

/// <summary>
/// Grain references by string key, the way <see cref="IGrainFactory.GetGrain{TGrainInterface}(string, string)"/> makes
/// them, without resolving the interface's grain types on every call.
/// </summary>
/// <remarks>
/// Orleans' <c>GetGrain&lt;T&gt;(key)</c> resolves <c>T</c>'s grain interface type each time: it reads the
/// interface's attributes by reflection and formats and rewrites its type name with string builders. A console session
/// makes three to five references (its token's grain for the lookup, the leases and the re-validation, the client's
/// sessions grain), and a sync one per token it writes; an allocation trace of a node opening sessions put 5 % of
/// everything it allocated under <c>GetGrain</c> (docs/benchmarks.md). The grain type and the interface type of an
/// interface never change within a process (each of ours has one implementation, in this assembly), so they are taken
/// from the first reference made the usual way, and later references are made from them and the key's id.
/// </remarks>
public static class GrainKeys
{
    /// <summary>The reference to the grain of <typeparamref name="T"/> with string key <paramref name="key"/>.</summary>
    public static T ForKey<T>(this IGrainFactory grains, string key)
        where T : IGrainWithStringKey
    {
        if (Types<T>.Resolved is { } types)
        {
            ArgumentException.ThrowIfNullOrWhiteSpace(key);
            return (T)grains.GetGrain(GrainId.Create(types.Grain, IdSpan.Create(key)), types.Interface);
        }

        var reference = grains.GetGrain<T>(key);
        if (reference is GrainReference made)
        {
            Types<T>.Resolved = new ResolvedTypes(made.GrainId.Type, made.InterfaceType);
        }

        return reference;
    }

    private sealed record ResolvedTypes(GrainType Grain, GrainInterfaceType Interface);

    /// <summary>What <typeparamref name="T"/> resolved to; written once (racing writers write the same value).</summary>
    private static class Types<T>
    {
        public static volatile ResolvedTypes? Resolved;
    }
}
