using System.Reflection;
using Orleans.Serialization.Invocation;

namespace OrleansVncCluster.Relay.Cluster;

/// <summary>
/// Bounds the per-thread pools in which Orleans keeps the completion source of every grain call. Orleans 10.4.2 takes a
/// call's source from the calling thread's stack and puts it back on the stack of the thread that reads the answer, and
/// no stack has a limit (<c>ConcurrentObjectPool.MaxPoolSize</c> is <see cref="int.MaxValue"/>). A session's calls are
/// made on the socket threads (Hosting/InlineIo) and their answers read on pool threads, so nearly every call left one
/// source on a stack no call took from again: about 2.6 a session set-up, 140,000 objects in 14 s of set-ups at
/// concurrency 16, for as long as the node lives (docs/benchmarks.md, thirty-fifth session). Bounded, a stack keeps at
/// most <see cref="PerThread"/> and the rest are collected; a thread that makes calls still takes from its own.
/// </summary>
/// <remarks>
/// The pools are internal to Orleans: the bound is set by reflection, once at start-up, on the untyped pool (calls that
/// answer nothing) and on the typed pool of each result type of the grain interfaces Orleans' type manifest lists (the
/// node's and Orleans' own: the ones it made call proxies for). A result type not found there keeps its unbounded pool;
/// an Orleans without these members leaves every pool as it is, and the start-up line says so.
/// </remarks>
internal static class GrainCallPools
{
    /// <summary>The most completion sources one thread keeps for one result type.</summary>
    public const int PerThread = 64;

    private const BindingFlags AnyStatic = BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic;

    private static readonly FieldInfo? UntypedPoolField = typeof(ResponseCompletionSourcePool).GetField("UntypedPool", AnyStatic);
    private static readonly Type? TypedPoolType = typeof(ResponseCompletionSourcePool).GetNestedType("TypedPool`1", BindingFlags.NonPublic);

    /// <summary>
    /// Sets the bound on the untyped pool and on the typed pool of every result type that <paramref name="interfaces"/>
    /// (grain interfaces, e.g. <c>TypeManifestOptions.Interfaces</c>) return, their inherited methods included. Returns
    /// how many pools are bounded: 0 when this Orleans has no such pools.
    /// </summary>
    public static int Bound(IEnumerable<Type> interfaces, int perThread = PerThread)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(perThread, 1);
        if (UntypedPool is not { } untyped || !TrySetBound(untyped, perThread))
        {
            return 0;
        }

        return 1 + ResultTypes(interfaces).Count(result => BoundResult(result, perThread));
    }

    /// <summary>Sets the bound on the typed pool of <paramref name="result"/>; false when Orleans has no such pool.</summary>
    internal static bool BoundResult(Type result, int perThread = PerThread) => PoolOf(result) is { } pool && TrySetBound(pool, perThread);

    /// <summary>The typed pool of <paramref name="result"/>, made if no call made it yet; null when Orleans has none.</summary>
    internal static object? PoolOf(Type result)
    {
        try
        {
            return TypedPoolType?.MakeGenericType(result).GetField("Pool", AnyStatic)?.GetValue(null);
        }
        catch (ArgumentException)
        {
            // A result type the pool's generic constraints refuse: its calls do not use that pool.
            return null;
        }
    }

    /// <summary>The bound of a pool: its <c>MaxPoolSize</c>; null when it has none.</summary>
    internal static int? BoundOf(object pool) => MaxPoolSize(pool)?.GetValue(pool) as int?;

    /// <summary>The untyped pool; null when Orleans has none.</summary>
    internal static object? UntypedPool => UntypedPoolField?.GetValue(null);

    private static PropertyInfo? MaxPoolSize(object pool) =>
        pool.GetType().GetProperty("MaxPoolSize", BindingFlags.Instance | BindingFlags.Public) is { CanWrite: true } property
        && property.PropertyType == typeof(int) ? property : null;

    private static bool TrySetBound(object pool, int perThread)
    {
        if (MaxPoolSize(pool) is not { } property)
        {
            return false;
        }

        property.SetValue(pool, perThread);
        return true;
    }

    /// <summary>The T of every <c>Task&lt;T&gt;</c> or <c>ValueTask&lt;T&gt;</c> a method of <paramref name="interfaces"/> returns.</summary>
    private static HashSet<Type> ResultTypes(IEnumerable<Type> interfaces) =>
    [
        .. interfaces.Where(type => !type.ContainsGenericParameters)
            .SelectMany(type => type.GetInterfaces().Prepend(type))
            .SelectMany(type => type.GetMethods())
            .Select(method => method.ReturnType)
            .Where(returned => returned.IsGenericType
                && (returned.GetGenericTypeDefinition() == typeof(Task<>) || returned.GetGenericTypeDefinition() == typeof(ValueTask<>)))
            .Select(returned => returned.GetGenericArguments()[0])
            .Where(result => !result.ContainsGenericParameters),
    ];
}
