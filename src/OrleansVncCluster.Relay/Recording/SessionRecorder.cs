using System.Buffers.Binary;
using System.Text.Json;
using OrleansVncCluster.Relay.Rfb;

namespace OrleansVncCluster.Relay.Recording;

/// <summary>
/// Records one session into its file (docs/RECORDING.md): the ServerInit the browser saw, the server's stream as relayed,
/// the browser's SetPixelFormat and SetEncodings as forwarded, when input happened, keyframes, and how it ended. The
/// session's two directions call it from the RFB layer's policy hooks (at each message header) and after each forwarded
/// chunk: the browser side (<see cref="Browser"/>, <see cref="BrowserForwarded"/>) from one task, the server side
/// (<see cref="Server"/>, <see cref="ServerForwarded"/>) from the other; the writer's lock orders their records.
/// <para>
/// Keyframes: once <see cref="RecordingOptions.KeyframeInterval"/> has passed since the last one, the browser's next
/// FramebufferUpdateRequest is forwarded non-incremental (noVNC sends one after every update and asks for its whole
/// framebuffer, so nothing is injected), and a Keyframe record goes in front of the first FramebufferUpdate the server
/// starts after it: with a single outstanding request (noVNC never pipelines them, and a recorded session never enables
/// continuous updates) that update is the full one. The browser's own non-incremental requests (its first, after a
/// resize) count too, so the first update of every recording is a keyframe.
/// </para>
/// </summary>
public sealed class SessionRecorder : IDisposable
{
    private readonly RecordingFileWriter _writer;
    private readonly TimeProvider _time;
    private readonly TimeSpan _keyframeInterval;
    private readonly bool _keyValues;
    private readonly Action<SessionRecorder> _closed;
    private readonly Queue<PendingSetup> _setups = new();
    private long? _lastKeyframe;
    private int _keyframeRequested;
    private long _keyframeAt = -1;
    private (ushort Width, ushort Height) _keyframeSize;
    private long _serverForwarded;
    private long _browserForwarded;
    private long _keyframes;
    private string? _failure;
    private int _done;

    internal SessionRecorder(string id, string path, RecordingFileWriter writer, RecordingOptions options, TimeProvider time, Action<SessionRecorder> closed)
    {
        Id = id;
        Path = path;
        _writer = writer;
        _time = time;
        _keyframeInterval = options.KeyframeInterval;
        _keyValues = options.IncludeKeyValues;
        _closed = closed;
    }

    /// <summary>The recording id (the file's name without its extension).</summary>
    public string Id { get; }

    /// <summary>The recording's file.</summary>
    public string Path { get; }

    /// <summary>True once <see cref="End"/> wrote the End record.</summary>
    public bool Ended { get; private set; }

    /// <summary>Bytes written so far.</summary>
    public long Bytes => _writer.BytesWritten;

    /// <summary>Keyframes written so far.</summary>
    public long Keyframes => Interlocked.Read(ref _keyframes);

    /// <summary>Why the recording stopped before the session did (a write failed: disk full, file removed); null while it
    /// records.</summary>
    public string? Failure => Volatile.Read(ref _failure);

    /// <summary>Called once when a write fails, with the reason: the session's owner decides whether the session may go
    /// on unrecorded.</summary>
    public Action<string>? Failed { get; set; }

    /// <summary>Writes the ServerInit the browser saw: the recording's screen size, pixel format and name.</summary>
    public void ServerInit(ReadOnlySpan<byte> serverInit) => Write(RecordingRecordKind.ServerInit, serverInit);

    /// <summary>Notes a browser message as its policy decided it: input records for forwarded keys, pointer events and
    /// clipboard; the bytes of SetPixelFormat and SetEncodings to record once forwarded; and, when a keyframe is due,
    /// <see cref="RfbMessageVerdict.ForwardAsFullUpdate"/> for an update request.</summary>
    public RfbMessageVerdict Browser(in RfbClientMessage message, RfbMessageVerdict verdict)
    {
        if (verdict == RfbMessageVerdict.Drop)
        {
            return verdict;
        }

        switch (message.Kind)
        {
            case RfbClientMessageKind.KeyEvent or RfbClientMessageKind.QemuExtendedKeyEvent:
                Input(new RecordingInput(RecordingInputKind.Key, message.DownOrButtons, _keyValues ? message.KeySym : 0, 0, 0));
                break;
            case RfbClientMessageKind.PointerEvent:
                Input(new RecordingInput(RecordingInputKind.Pointer, message.DownOrButtons, 0, message.X, message.Y));
                break;
            case RfbClientMessageKind.ClientCutText when message.CarriesClipboardData:
                Input(new RecordingInput(RecordingInputKind.ClipboardToVm, 0, (uint)Math.Min(message.ClipboardLength, uint.MaxValue), 0, 0));
                break;
            case RfbClientMessageKind.SetPixelFormat or RfbClientMessageKind.SetEncodings:
                _setups.Enqueue(new PendingSetup(message.Position, new byte[message.Length]));
                break;
            case RfbClientMessageKind.FramebufferUpdateRequest:
                return UpdateRequest(message, verdict);
        }

        return verdict;
    }

    /// <summary>Records what the filter forwarded to the server from one browser chunk: completes the SetPixelFormat and
    /// SetEncodings records (as forwarded, after the filter's rewriting).</summary>
    public void BrowserForwarded(ReadOnlySpan<byte> forwarded)
    {
        var start = _browserForwarded;
        _browserForwarded += forwarded.Length;
        while (_setups.TryPeek(out var setup))
        {
            var from = Math.Max(setup.Start, start);
            var to = Math.Min(setup.Start + setup.Bytes.Length, _browserForwarded);
            if (to > from)
            {
                forwarded[(int)(from - start)..(int)(to - start)].CopyTo(setup.Bytes.AsSpan((int)(from - setup.Start)));
            }

            if (setup.Start + setup.Bytes.Length > _browserForwarded)
            {
                return;
            }

            _setups.Dequeue();
            Write(RecordingRecordKind.ClientSetup, setup.Bytes);
        }
    }

    /// <summary>Notes a server message as the policy decided it: where the keyframe goes, and clipboard input from the VM.</summary>
    public void Server(in RfbServerMessage message, RfbMessageVerdict verdict)
    {
        if (message.Kind == RfbServerMessageKind.FramebufferUpdate && Interlocked.Exchange(ref _keyframeRequested, 0) == 1)
        {
            (_keyframeAt, _keyframeSize) = (message.Forwarded, message.DesktopSize);
        }
        else if (message.CarriesClipboardData && verdict != RfbMessageVerdict.Drop)
        {
            Input(new RecordingInput(RecordingInputKind.ClipboardFromVm, 0, (uint)Math.Min(message.ClipboardLength, uint.MaxValue), 0, 0));
        }
    }

    /// <summary>Records what the reader forwarded to the browser from one server chunk, with the keyframe in front of the
    /// update it marks.</summary>
    public void ServerForwarded(ReadOnlySpan<byte> forwarded)
    {
        var start = _serverForwarded;
        _serverForwarded += forwarded.Length;
        if (_keyframeAt >= start && _keyframeAt < _serverForwarded)
        {
            var split = (int)(_keyframeAt - start);
            _keyframeAt = -1;
            if (split > 0)
            {
                Write(RecordingRecordKind.ServerData, forwarded[..split]);
            }

            // The screen's size when the server resized it since ServerInit; empty while the ServerInit's holds.
            Span<byte> size = stackalloc byte[RecordingFormat.KeyframeSizeLength];
            BinaryPrimitives.WriteUInt16BigEndian(size, _keyframeSize.Width);
            BinaryPrimitives.WriteUInt16BigEndian(size[2..], _keyframeSize.Height);
            Write(RecordingRecordKind.Keyframe, _keyframeSize == default ? [] : size);
            Interlocked.Increment(ref _keyframes);
            forwarded = forwarded[split..];
        }

        Write(RecordingRecordKind.ServerData, forwarded);
    }

    /// <summary>Hands what is buffered to the operating system (the node's flush timer, every second).</summary>
    public void Flush()
    {
        try
        {
            _writer.Flush();
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            Fail(exception.Message);
        }
    }

    /// <summary>Ends the recording with the session's close code and reason, and closes the file.</summary>
    public void End(int code, string? reason)
    {
        Write(RecordingRecordKind.End, JsonSerializer.SerializeToUtf8Bytes(new RecordingEnd { Code = code, Reason = reason }, RecordingJsonContext.Default.RecordingEnd));
        Ended = Failure is null;
        Dispose();
    }

    /// <summary>Closes the file without an End record when <see cref="End"/> was not called (the recording reads as cut).</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _done, 1) == 1)
        {
            return;
        }

        try
        {
            _writer.Dispose();
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            Volatile.Write(ref _failure, exception.Message);
        }

        _closed(this);
    }

    private RfbMessageVerdict UpdateRequest(in RfbClientMessage message, RfbMessageVerdict verdict)
    {
        var now = _time.GetTimestamp();
        var full = message.DownOrButtons == 0;
        if (!full && _lastKeyframe is { } last && _time.GetElapsedTime(last, now) < _keyframeInterval)
        {
            return verdict;
        }

        _lastKeyframe = now;
        Volatile.Write(ref _keyframeRequested, 1);
        return full ? verdict : RfbMessageVerdict.ForwardAsFullUpdate;
    }

    private void Input(RecordingInput input)
    {
        Span<byte> payload = stackalloc byte[RecordingInput.Size];
        input.Write(payload);
        Write(RecordingRecordKind.Input, payload);
    }

    private void Write(RecordingRecordKind kind, ReadOnlySpan<byte> payload)
    {
        if (Volatile.Read(ref _failure) is not null || Volatile.Read(ref _done) == 1)
        {
            return;
        }

        try
        {
            _writer.Write(kind, payload);
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException or ObjectDisposedException)
        {
            Fail(exception.Message);
        }
    }

    private void Fail(string reason)
    {
        if (Interlocked.CompareExchange(ref _failure, reason, null) is null && Volatile.Read(ref _done) == 0)
        {
            Failed?.Invoke(reason);
        }
    }

    private sealed record PendingSetup(long Start, byte[] Bytes);
}
