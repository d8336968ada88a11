using System.Globalization;

namespace OrleansVncCluster.Relay.Rfb;

/// <summary>
/// The relay as an RFB server towards the browser (RFC 6143 sections 7.1 to 7.3) once it has logged in to the VNC server
/// itself: it offers security type None only, since the browser has already been admitted by its ticket or token, and
/// hands on the server's ServerInit unchanged. Every failure becomes a result with a readable reason.
/// </summary>
public sealed class RfbBrowserHandshake
{
    private readonly TimeSpan _timeout;
    private readonly TimeProvider _timeProvider;

    /// <summary>A handshake that must end within <paramref name="timeout"/>.</summary>
    public RfbBrowserHandshake(TimeSpan timeout, TimeProvider? timeProvider = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(timeout, TimeSpan.Zero);
        _timeout = timeout;
        _timeProvider = timeProvider ?? TimeProvider.System;
    }

    /// <summary>Version, security None, SecurityResult where the version has one, ClientInit, then
    /// <paramref name="serverInit"/>. The browser's shared flag is read and reported, never obeyed.</summary>
    public Task<RfbBrowserHandshakeResult> RunAsync(Stream browser, RfbServerInit serverInit, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(browser);
        ArgumentNullException.ThrowIfNull(serverInit);
        return GuardAsync(browser, (scratch, token) => AcceptAsync(browser, serverInit, scratch, token), cancellationToken);
    }

    /// <summary>Tells the browser, in RFB, why there will be no console: the version exchange, then zero security types
    /// and <paramref name="reason"/> (RFC 6143 section 7.1.2; 3.3 gets security type 0 and the reason), which noVNC shows
    /// to the user. The result is a failure carrying <paramref name="reason"/> when the browser got it.</summary>
    public Task<RfbBrowserHandshakeResult> RefuseAsync(Stream browser, string reason, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(browser);
        ArgumentNullException.ThrowIfNull(reason);
        return GuardAsync(browser, (scratch, token) => SendRefusalAsync(browser, reason, scratch, token), cancellationToken);
    }

    private async Task<RfbBrowserHandshakeResult> GuardAsync(
        Stream browser, Func<byte[], CancellationToken, Task<RfbBrowserHandshakeResult>> exchange, CancellationToken cancellationToken)
    {
        using var deadline = new CancellationTokenSource(_timeout, _timeProvider);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, deadline.Token);
        try
        {
            return await exchange(new byte[4], linked.Token).ConfigureAwait(false);
        }
        catch (RfbFailureException failure)
        {
            return RfbBrowserHandshakeResult.Failed(null, failure.Kind, failure.Message);
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            return RfbBrowserHandshakeResult.Failed(null, RfbFailureKind.Timeout,
                $"the browser did not finish the RFB handshake within {_timeout.TotalSeconds.ToString(CultureInfo.InvariantCulture)} s");
        }
        catch (OperationCanceledException)
        {
            return RfbBrowserHandshakeResult.Failed(null, RfbFailureKind.Cancelled, "the RFB handshake with the browser was cancelled");
        }
        catch (EndOfStreamException)
        {
            return RfbBrowserHandshakeResult.Failed(null, RfbFailureKind.Closed, "the browser closed the connection during the RFB handshake");
        }
        catch (Exception exception) when (exception is not OutOfMemoryException)
        {
            // Whatever the browser's transport throws (IOException, a WebSocketException from the adapter) ends only
            // this session.
            return RfbBrowserHandshakeResult.Failed(null, RfbFailureKind.TransportError,
                $"the connection to the browser failed during the RFB handshake: {exception.Message}");
        }
    }

    private static async Task<RfbBrowserHandshakeResult> AcceptAsync(Stream browser, RfbServerInit serverInit, byte[] scratch, CancellationToken cancellationToken)
    {
        var version = await NegotiateVersionAsync(browser, cancellationToken).ConfigureAwait(false);
        if (version == RfbVersion.V3_3)
        {
            // RFC 6143 appendix A.1: the server names the type, a U32.
            await RfbWire.WriteU32Async(browser, RfbSecurityTypes.None, cancellationToken).ConfigureAwait(false);
        }
        else
        {
            await RfbWire.WriteAsync(browser, new byte[] { 1, RfbSecurityTypes.None }, cancellationToken).ConfigureAwait(false);
            var chosen = await RfbWire.ReadU8Async(browser, scratch, cancellationToken).ConfigureAwait(false);
            if (chosen != RfbSecurityTypes.None)
            {
                var reason = $"the browser chose security type {RfbSecurityTypes.Name(chosen)}; the relay offered only None";
                if (version == RfbVersion.V3_8)
                {
                    await RfbWire.WriteU32Async(browser, 1, cancellationToken).ConfigureAwait(false);
                    await RfbWire.WriteReasonAsync(browser, reason, cancellationToken).ConfigureAwait(false);
                }

                return RfbBrowserHandshakeResult.Failed(version, RfbFailureKind.ProtocolViolation, reason);
            }

            // RFC 6143 section 7.1.3: 3.7 has no SecurityResult after None, 3.8 has one.
            if (version == RfbVersion.V3_8)
            {
                await RfbWire.WriteU32Async(browser, 0, cancellationToken).ConfigureAwait(false);
            }
        }

        var shared = await RfbWire.ReadU8Async(browser, scratch, cancellationToken).ConfigureAwait(false) != 0;
        await browser.WriteAsync(serverInit.Bytes, cancellationToken).ConfigureAwait(false);
        await browser.FlushAsync(cancellationToken).ConfigureAwait(false);
        return RfbBrowserHandshakeResult.Success(version, shared);
    }

    private static async Task<RfbBrowserHandshakeResult> SendRefusalAsync(Stream browser, string reason, byte[] scratch, CancellationToken cancellationToken)
    {
        _ = scratch;
        var version = await NegotiateVersionAsync(browser, cancellationToken).ConfigureAwait(false);
        if (version == RfbVersion.V3_3)
        {
            await RfbWire.WriteU32Async(browser, RfbSecurityTypes.Invalid, cancellationToken).ConfigureAwait(false);
        }
        else
        {
            await RfbWire.WriteU8Async(browser, 0, cancellationToken).ConfigureAwait(false);
        }

        await RfbWire.WriteReasonAsync(browser, reason, cancellationToken).ConfigureAwait(false);
        await browser.FlushAsync(cancellationToken).ConfigureAwait(false);
        return RfbBrowserHandshakeResult.Failed(version, RfbFailureKind.Refused, reason);
    }

    /// <summary>Offers 3.8 and takes what the browser answers, which must not be higher (RFC 6143 section 7.1.1).</summary>
    private static async Task<RfbVersion> NegotiateVersionAsync(Stream browser, CancellationToken cancellationToken)
    {
        await browser.WriteAsync(RfbWire.VersionBytes(RfbVersion.V3_8), cancellationToken).ConfigureAwait(false);
        await browser.FlushAsync(cancellationToken).ConfigureAwait(false);
        var bytes = new byte[RfbWire.VersionLength];
        await browser.ReadExactlyAsync(bytes, cancellationToken).ConfigureAwait(false);
        if (!RfbWire.TryParseVersion(bytes, out var major, out var minor))
        {
            throw new RfbFailureException(RfbFailureKind.NotRfb, $"the browser does not speak RFB: it sent '{RfbWire.Printable(bytes)}'");
        }

        return (major, minor) switch
        {
            (3, 8) => RfbVersion.V3_8,
            (3, 7) => RfbVersion.V3_7,
            (3, >= 3 and < 7) => RfbVersion.V3_3,
            _ => throw new RfbFailureException(RfbFailureKind.UnsupportedVersion,
                $"the browser asked for RFB {major}.{minor}; the relay speaks 3.3, 3.7 and 3.8"),
        };
    }
}
