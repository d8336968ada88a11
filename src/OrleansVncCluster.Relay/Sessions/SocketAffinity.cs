using System.Net.Sockets;
using System.Reflection;

namespace OrleansVncCluster.Relay.Sessions;

/// <summary>
/// Puts a session's VNC socket on the socket thread that serves its browser socket (<c>Relay:SocketAffinity</c>), as
/// proxies written for speed keep both sides of a connection on one worker. With inline completions (Hosting/InlineIo)
/// a direction's copy runs on the epoll thread its source socket is registered with, and a send that had to wait
/// resumes on its destination's. The runtime deals sockets out to its threads (one per core) in turn as they are
/// registered, and a session's two are registered one after the other: the browser's at its first read, the VNC
/// server's at the dial. So on a two-core node every session had its two sockets on different threads, each answered
/// message crossed between cores, and a download whose browser fell behind bounced between the two threads
/// (docs/benchmarks.md).
/// </summary>
/// <remarks>
/// .NET 10 has no way to choose a socket's thread: this sets the runtime's turn counter (the private static
/// <c>SocketAsyncEngine.s_allocateFromEngine</c>) so that the next registration, the dial's, lands on the browser
/// socket's thread, found through that socket's private handle and async context. Nothing else rests on it: on a
/// runtime without those fields <see cref="Available"/> is false (said at start-up) and sockets go where the runtime
/// deals them, as they do when another socket is registered in between (the counter is the runtime's; a lost turn only
/// moves a socket; a target given by name, looked up by the dial, leaves the most time for that).
/// </remarks>
internal static class SocketAffinity
{
    private const BindingFlags Instance = BindingFlags.Instance | BindingFlags.NonPublic;
    private const BindingFlags Static = BindingFlags.Static | BindingFlags.NonPublic;
    // The socket's async context is an internal type: its public members are as hidden as its internal ones.
    private const BindingFlags AnyInstance = BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic;

    private static readonly Type? EngineType = typeof(Socket).Assembly.GetType("System.Net.Sockets.SocketAsyncEngine");
    // Socket.SafeHandle would mark the handle exposed, which changes how the runtime treats the socket; its field does not.
    private static readonly FieldInfo? HandleField = typeof(Socket).GetField("_handle", Instance);
    private static readonly FieldInfo? ContextField = typeof(SafeSocketHandle).GetField("_asyncContext", Instance);
    private static readonly FieldInfo? EngineField = ContextField?.FieldType.GetField("_asyncEngine", Instance);
    private static readonly FieldInfo? EnginesField = EngineType?.GetField("s_engines", Static);
    private static readonly FieldInfo? TurnField = EngineType?.GetField("s_allocateFromEngine", Static);
    // What the runtime calls on a socket's first asynchronous operation that waits: made now, the registration is not
    // left to whichever operation waits first (a read that finds data waiting registers nothing).
    private static readonly PropertyInfo? ContextProperty = typeof(SafeSocketHandle).GetProperty("AsyncContext", Instance);
    private static readonly MethodInfo? NonBlockingMethod = ContextProperty?.PropertyType.GetMethod("SetHandleNonBlocking", AnyInstance, []);
    private static readonly MethodInfo? RegisterMethod = ContextProperty?.PropertyType.GetMethod("TryRegister", AnyInstance);

    /// <summary>Whether this runtime has the fields the affinity rests on, of the types it expects.</summary>
    public static bool Available { get; } = EngineType is not null && HandleField?.FieldType == typeof(SafeSocketHandle) && EngineField?.FieldType == EngineType
        && EnginesField is { IsInitOnly: true } && EnginesField.FieldType == EngineType.MakeArrayType() && TurnField?.FieldType == typeof(int)
        && ContextProperty?.PropertyType == ContextField?.FieldType && NonBlockingMethod is not null
        && RegisterMethod?.ReturnType == typeof(bool) && RegisterMethod.GetParameters() is [{ ParameterType.IsByRef: true }];

    // The runtime's socket threads, a read-only array it makes before its first socket: read once, not per session.
    private static readonly Lazy<object[]?> Engines = new(() => Available ? EnginesField!.GetValue(null) as object[] : null);

    /// <summary>How many socket threads the runtime deals sockets out to; -1 when its fields are not there.</summary>
    public static int ThreadCount => Engines.Value?.Length ?? -1;

    /// <summary>What the node does, for its start-up log.</summary>
    public static string Describe(bool enabled) => (enabled, ThreadCount) switch
    {
        (false, _) => "off",
        (true, -1) => "not available on this runtime: each socket goes where the runtime deals it",
        (true, 1) => "on, but the runtime runs one socket thread: every socket is on it",
        (true, var threads) => $"on, {threads} socket threads",
    };

    /// <summary>The index of the socket thread <paramref name="socket"/> is registered with, or -1 when it is not (yet)
    /// registered with one or the runtime's fields are not there.</summary>
    public static int ThreadOf(Socket socket)
    {
        if (Engines.Value is not { } engines)
        {
            return -1;
        }

        var context = HandleField!.GetValue(socket) is { } handle ? ContextField!.GetValue(handle) : null;
        return context is null || EngineField!.GetValue(context) is not { } engine ? -1 : Array.IndexOf(engines, engine);
    }

    /// <summary>
    /// Registers <paramref name="socket"/>, a new one not yet used, with <paramref name="companion"/>'s socket thread:
    /// the turn counter pointed at that thread, then the registration the runtime would make at the socket's first
    /// operation that waits. Call it before the socket's first operation (a dial: a connect that completes at once, as
    /// on loopback, registers nothing, nor does a first read that finds the server's bytes already there, so the
    /// registration would fall to whichever operation waits first, at whatever turn then). Does nothing without a
    /// companion, when the companion is not registered, or when the runtime's fields are not there.
    /// </summary>
    public static void Join(Socket socket, Socket? companion)
    {
        var thread = companion is null ? -1 : ThreadOf(companion);
        if (thread < 0)
        {
            return;
        }

        var context = ContextProperty!.GetValue(HandleField!.GetValue(socket));
        NonBlockingMethod!.Invoke(context, null);
        // The runtime increments the counter before it picks the thread.
        TurnField!.SetValue(null, thread - 1);
        RegisterMethod!.Invoke(context, [null]);
    }
}
