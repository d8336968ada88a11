using System.Buffers.Binary;
using System.Globalization;
using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace OrleansVncCluster.Relay.Rfb;

/// <summary>
/// The relay as an RFB client towards a VNC server (RFC 6143 sections 7.1 to 7.3): version, security (VeNCrypt with
/// TLS, VNC authentication with the known password, or None), ClientInit and ServerInit. Every failure becomes a
/// <see cref="RfbTargetLoginResult"/> with a readable reason; every read is bounded, and the whole login has a deadline.
/// One instance serves every login of a node: it holds the loaded CA and client certificates.
/// </summary>
public sealed class RfbTargetLogin
{
    /// <summary>The TLS subtypes the relay can use, best first. TLSVnc and TLSNone are missing on purpose: they are
    /// anonymous Diffie-Hellman TLS, which OpenSSL under .NET refuses ("no ciphers available", tried against Xtigervnc
    /// 1.12) and which would not authenticate the server anyway (docs/RFB.md).</summary>
    private static readonly uint[] TlsSubtypePreference = [RfbSecurityTypes.X509Vnc, RfbSecurityTypes.X509None];

    private readonly RfbTargetLoginOptions _options;
    private readonly TimeProvider _timeProvider;
    private readonly X509Certificate2Collection? _trustedRoots;
    private readonly X509Certificate2Collection? _clientCertificates;

    /// <summary>Loads the CA and client certificate files once.</summary>
    /// <exception cref="InvalidOperationException">A configured file does not load; the message names the setting.</exception>
    public RfbTargetLogin(RfbTargetLoginOptions options, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options;
        _timeProvider = timeProvider ?? TimeProvider.System;
        if (options.CaFile is { } caFile)
        {
            _trustedRoots = LoadCertificates(caFile);
        }

        if (options.ClientCertificateFile is not null || options.ClientKeyFile is not null)
        {
            _clientCertificates = [LoadClientCertificate(options.ClientCertificateFile, options.ClientKeyFile)];
        }
    }

    /// <summary>Logs in to the VNC server at the other end of <paramref name="stream"/>; never throws for anything the
    /// server or the network does.</summary>
    public async Task<RfbTargetLoginResult> LoginAsync(Stream stream, RfbTarget target, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(target);
        using var deadline = new CancellationTokenSource(_options.Timeout, _timeProvider);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, deadline.Token);
        var attempt = new Attempt(this, stream, target);
        try
        {
            var serverInit = await attempt.RunAsync(linked.Token).ConfigureAwait(false);
            return RfbTargetLoginResult.Success(attempt.Stream, serverInit, attempt.Version, attempt.Security);
        }
        catch (Exception exception) when (exception is not OutOfMemoryException)
        {
            var (kind, reason) = Describe(exception, attempt, deadline.IsCancellationRequested && !cancellationToken.IsCancellationRequested);
            if (attempt.Stream is SslStream tls)
            {
                await tls.DisposeAsync().ConfigureAwait(false);
            }

            return RfbTargetLoginResult.Failed(kind, reason, attempt.Version, attempt.Security);
        }
    }

    private (RfbFailureKind Kind, string Reason) Describe(Exception exception, Attempt attempt, bool timedOut) => exception switch
    {
        RfbFailureException failure => (failure.Kind, failure.Message),
        OperationCanceledException when timedOut => (RfbFailureKind.Timeout,
            $"the VNC server did not finish the login within {_options.Timeout.TotalSeconds.ToString(CultureInfo.InvariantCulture)} s (waiting for {attempt.Stage})"),
        OperationCanceledException => (RfbFailureKind.Cancelled, $"the login was cancelled during {attempt.Stage}"),
        AuthenticationException when attempt.TlsFailure is not null => (RfbFailureKind.TlsFailed, attempt.TlsFailure),
        AuthenticationException tls => (RfbFailureKind.TlsFailed, $"the TLS handshake with the VNC server failed: {tls.Message}"),
        EndOfStreamException => (RfbFailureKind.Closed, $"the VNC server closed the connection during {attempt.Stage}"),
        IOException io when attempt.Stage == Stages.Tls => (RfbFailureKind.TlsFailed, $"the TLS handshake with the VNC server failed: {io.Message}"),
        IOException or ObjectDisposedException => (RfbFailureKind.TransportError, $"the connection to the VNC server failed during {attempt.Stage}: {exception.Message}"),
        _ => (RfbFailureKind.ProtocolViolation, $"the login to the VNC server failed during {attempt.Stage}: {exception.Message}"),
    };

    private static X509Certificate2Collection LoadCertificates(string path)
    {
        var certificates = new X509Certificate2Collection();
        try
        {
            certificates.ImportFromPemFile(path);
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException or CryptographicException)
        {
            throw new InvalidOperationException($"Targets:CaFile '{path}' does not load: {exception.Message}", exception);
        }

        if (certificates.Count == 0)
        {
            throw new InvalidOperationException($"Targets:CaFile '{path}' holds no PEM certificate");
        }

        return certificates;
    }

    private static X509Certificate2 LoadClientCertificate(string? certificateFile, string? keyFile)
    {
        if (certificateFile is null || keyFile is null)
        {
            throw new InvalidOperationException("Targets:ClientCertificateFile and Targets:ClientKeyFile go together: set both or neither");
        }

        try
        {
            return X509Certificate2.CreateFromPemFile(certificateFile, keyFile);
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException or CryptographicException)
        {
            throw new InvalidOperationException(
                $"Targets:ClientCertificateFile '{certificateFile}' with Targets:ClientKeyFile '{keyFile}' does not load: {exception.Message}", exception);
        }
    }

    /// <summary>What the login waits for, for reasons and timeouts.</summary>
    private static class Stages
    {
        public const string Version = "the protocol version";
        public const string Security = "the security types";
        public const string VeNCrypt = "the VeNCrypt negotiation";
        public const string Tls = "the TLS handshake";
        public const string VncAuthentication = "the VNC authentication challenge";
        public const string SecurityResult = "the security result";
        public const string ServerInit = "ServerInit";
    }

    /// <summary>The state of one login.</summary>
    private sealed class Attempt(RfbTargetLogin owner, Stream stream, RfbTarget target)
    {
        private readonly byte[] _scratch = new byte[RfbVncAuthentication.ChallengeLength];
        private uint _effectiveType;
        private RfbTargetLoginOptions Options => owner._options;

        public Stream Stream { get; private set; } = stream;
        public RfbVersion Version { get; private set; } = RfbVersion.V3_8;
        public string Security { get; private set; } = "";
        public string Stage { get; private set; } = Stages.Version;
        public string? TlsFailure { get; private set; }

        public async Task<RfbServerInit> RunAsync(CancellationToken cancellationToken)
        {
            await NegotiateVersionAsync(cancellationToken).ConfigureAwait(false);
            Stage = Stages.Security;
            var usesPassword = Version == RfbVersion.V3_3
                ? await ServerChoosesSecurityAsync(cancellationToken).ConfigureAwait(false)
                : await ClientChoosesSecurityAsync(cancellationToken).ConfigureAwait(false);

            // RFC 6143 section 7.1.3: before 3.8 there is no SecurityResult after None, also when None was chosen inside
            // VeNCrypt (TigerVNC common/rfb/SConnection.cxx asks the chosen subtype).
            if (Version == RfbVersion.V3_8 || _effectiveType != RfbSecurityTypes.None)
            {
                await ReadSecurityResultAsync(usesPassword, cancellationToken).ConfigureAwait(false);
            }

            Stage = Stages.ServerInit;
            await RfbWire.WriteU8Async(Stream, Options.Exclusive ? (byte)0 : (byte)1, cancellationToken).ConfigureAwait(false);
            return await ReadServerInitAsync(cancellationToken).ConfigureAwait(false);
        }

        private async Task NegotiateVersionAsync(CancellationToken cancellationToken)
        {
            var bytes = new byte[RfbWire.VersionLength];
            await Stream.ReadExactlyAsync(bytes, cancellationToken).ConfigureAwait(false);
            if (!RfbWire.TryParseVersion(bytes, out var major, out var minor))
            {
                throw new RfbFailureException(RfbFailureKind.NotRfb, $"the target is not a VNC server: it sent '{RfbWire.Printable(bytes)}'");
            }

            // RFC 6143 section 7.1.1: the client answers with a version no higher than the server's; 3.5 is 3.3, and so
            // is every 3.x the RFC does not name below 3.7.
            Version = (major, minor) switch
            {
                (3, >= 8) or (> 3, _) => RfbVersion.V3_8,
                (3, 7) => RfbVersion.V3_7,
                (3, >= 3) => RfbVersion.V3_3,
                _ => throw new RfbFailureException(RfbFailureKind.UnsupportedVersion,
                    $"the VNC server speaks RFB {major}.{minor}, older than 3.3"),
            };
            await Stream.WriteAsync(RfbWire.VersionBytes(Version), cancellationToken).ConfigureAwait(false);
            await Stream.FlushAsync(cancellationToken).ConfigureAwait(false);
        }

        /// <summary>RFB 3.3 (RFC 6143 appendix A.1): the server names the one type, a U32.</summary>
        private async Task<bool> ServerChoosesSecurityAsync(CancellationToken cancellationToken)
        {
            var type = await RfbWire.ReadU32Async(Stream, _scratch, cancellationToken).ConfigureAwait(false);
            if (type == RfbSecurityTypes.Invalid)
            {
                var reason = await RfbWire.ReadReasonAsync(Stream, _scratch, cancellationToken).ConfigureAwait(false);
                throw new RfbFailureException(RfbFailureKind.Refused, $"the VNC server refused the connection: {reason}");
            }

            if (Options.RequireTls)
            {
                throw TlsRequired();
            }

            switch (type)
            {
                case RfbSecurityTypes.None:
                    Security = "None";
                    _effectiveType = type;
                    return false;
                case RfbSecurityTypes.VncAuthentication:
                    Security = "VncAuth";
                    _effectiveType = type;
                    await AnswerChallengeAsync(cancellationToken).ConfigureAwait(false);
                    return true;
                default:
                    throw new RfbFailureException(RfbFailureKind.NoAcceptableSecurity,
                        $"the VNC server (RFB 3.3) asks for security type {RfbSecurityTypes.Name(type)}, which the relay does not support");
            }
        }

        /// <summary>RFB 3.7 and 3.8 (RFC 6143 section 7.1.2): the server lists its types and the client picks one.</summary>
        private async Task<bool> ClientChoosesSecurityAsync(CancellationToken cancellationToken)
        {
            var count = await RfbWire.ReadU8Async(Stream, _scratch, cancellationToken).ConfigureAwait(false);
            if (count == 0)
            {
                var reason = await RfbWire.ReadReasonAsync(Stream, _scratch, cancellationToken).ConfigureAwait(false);
                throw new RfbFailureException(RfbFailureKind.Refused, $"the VNC server refused the connection: {reason}");
            }

            var offered = new byte[count];
            await Stream.ReadExactlyAsync(offered, cancellationToken).ConfigureAwait(false);
            var chosen = ChooseSecurityType(offered);
            _effectiveType = chosen;
            await RfbWire.WriteU8Async(Stream, chosen, cancellationToken).ConfigureAwait(false);
            switch (chosen)
            {
                case RfbSecurityTypes.VeNCrypt:
                    return await VeNCryptAsync(cancellationToken).ConfigureAwait(false);
                case RfbSecurityTypes.VncAuthentication:
                    Security = "VncAuth";
                    await AnswerChallengeAsync(cancellationToken).ConfigureAwait(false);
                    return true;
                default:
                    Security = "None";
                    return false;
            }
        }

        /// <summary>VeNCrypt first (it is the only way to TLS), then VNC authentication when the password is known, then
        /// None; never a type the relay cannot complete on its own.</summary>
        private byte ChooseSecurityType(byte[] offered)
        {
            if (offered.Contains(RfbSecurityTypes.VeNCrypt))
            {
                return RfbSecurityTypes.VeNCrypt;
            }

            if (Options.RequireTls)
            {
                throw TlsRequired();
            }

            if (offered.Contains(RfbSecurityTypes.VncAuthentication) && target.Password is not null)
            {
                return RfbSecurityTypes.VncAuthentication;
            }

            if (offered.Contains(RfbSecurityTypes.None))
            {
                return RfbSecurityTypes.None;
            }

            if (offered.Contains(RfbSecurityTypes.VncAuthentication))
            {
                throw PasswordRequired();
            }

            throw new RfbFailureException(RfbFailureKind.NoAcceptableSecurity,
                $"the VNC server offers security types {RfbSecurityTypes.Names(offered)}; the relay supports None, VncAuth and VeNCrypt");
        }

        /// <summary>VeNCrypt 0.2 (rfbproto.rst "VeNCrypt"): version, subtype list, choice; a TLS subtype is acknowledged
        /// with U8 1 and followed by the TLS handshake, inside which the inner authentication and the rest run.</summary>
        private async Task<bool> VeNCryptAsync(CancellationToken cancellationToken)
        {
            Stage = Stages.VeNCrypt;
            Security = "VeNCrypt";
            await Stream.ReadExactlyAsync(_scratch.AsMemory(0, 2), cancellationToken).ConfigureAwait(false);
            var (major, minor) = (_scratch[0], _scratch[1]);
            if (major == 0 && minor < 2)
            {
                throw new RfbFailureException(RfbFailureKind.UnsupportedVersion,
                    $"the VNC server speaks VeNCrypt {major}.{minor}; the relay speaks 0.2");
            }

            await Stream.WriteAsync(new byte[] { 0, 2 }, cancellationToken).ConfigureAwait(false);
            await Stream.FlushAsync(cancellationToken).ConfigureAwait(false);
            if (await RfbWire.ReadU8Async(Stream, _scratch, cancellationToken).ConfigureAwait(false) != 0)
            {
                throw new RfbFailureException(RfbFailureKind.UnsupportedVersion, "the VNC server does not accept VeNCrypt 0.2");
            }

            var count = await RfbWire.ReadU8Async(Stream, _scratch, cancellationToken).ConfigureAwait(false);
            var subtypes = new uint[count];
            for (var i = 0; i < count; i++)
            {
                subtypes[i] = await RfbWire.ReadU32Async(Stream, _scratch, cancellationToken).ConfigureAwait(false);
            }

            var chosen = ChooseSubtype(subtypes);
            _effectiveType = chosen;
            Security = "VeNCrypt/" + RfbSecurityTypes.Name(chosen);
            await RfbWire.WriteU32Async(Stream, chosen, cancellationToken).ConfigureAwait(false);
            if (chosen is RfbSecurityTypes.None or RfbSecurityTypes.VncAuthentication)
            {
                Stage = Stages.Security;
                if (chosen == RfbSecurityTypes.VncAuthentication)
                {
                    await AnswerChallengeAsync(cancellationToken).ConfigureAwait(false);
                    return true;
                }

                return false;
            }

            if (await RfbWire.ReadU8Async(Stream, _scratch, cancellationToken).ConfigureAwait(false) != 1)
            {
                throw new RfbFailureException(RfbFailureKind.Refused, $"the VNC server declined the {RfbSecurityTypes.Name(chosen)} subtype it offered");
            }

            await StartTlsAsync(cancellationToken).ConfigureAwait(false);
            if (chosen == RfbSecurityTypes.X509Vnc)
            {
                await AnswerChallengeAsync(cancellationToken).ConfigureAwait(false);
                return true;
            }

            return false;
        }

        /// <summary>X.509 subtypes first (only they authenticate the server), VNC-password subtypes only with a known
        /// password, and the plain subtypes only when TLS is not required.</summary>
        private uint ChooseSubtype(uint[] subtypes)
        {
            foreach (var candidate in TlsSubtypePreference)
            {
                if (subtypes.Contains(candidate) && (candidate != RfbSecurityTypes.X509Vnc || target.Password is not null))
                {
                    return candidate;
                }
            }

            if (!Options.RequireTls)
            {
                if (subtypes.Contains(RfbSecurityTypes.VncAuthentication) && target.Password is not null)
                {
                    return RfbSecurityTypes.VncAuthentication;
                }

                if (subtypes.Contains(RfbSecurityTypes.None))
                {
                    return RfbSecurityTypes.None;
                }
            }

            var offersX509 = subtypes.Any(s => s is RfbSecurityTypes.X509Vnc or RfbSecurityTypes.X509None or RfbSecurityTypes.X509Plain);
            if (Options.RequireTls && !offersX509)
            {
                throw new RfbFailureException(RfbFailureKind.TlsRequired,
                    $"the VNC server offers no X.509 TLS (VeNCrypt subtypes {RfbSecurityTypes.Names(subtypes)}) and Targets:RequireTls is set");
            }

            if (target.Password is null && subtypes.Any(s => s is RfbSecurityTypes.X509Vnc or RfbSecurityTypes.VncAuthentication))
            {
                throw PasswordRequired();
            }

            throw new RfbFailureException(RfbFailureKind.NoAcceptableSecurity,
                $"the VNC server offers VeNCrypt subtypes {RfbSecurityTypes.Names(subtypes)}; the relay supports X509Vnc, X509None, VncAuth and None");
        }

        private async Task StartTlsAsync(CancellationToken cancellationToken)
        {
            Stage = Stages.Tls;
            var tls = new SslStream(Stream, leaveInnerStreamOpen: true, ValidateServerCertificate);
            Stream = tls;
            var options = new SslClientAuthenticationOptions
            {
                TargetHost = target.Name ?? target.Address,
                ClientCertificates = owner._clientCertificates,
                CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
            };
            if (owner._trustedRoots is { } roots)
            {
                var policy = new X509ChainPolicy
                {
                    TrustMode = X509ChainTrustMode.CustomRootTrust,
                    RevocationMode = X509RevocationMode.NoCheck,
                };
                policy.CustomTrustStore.AddRange(roots);
                options.CertificateChainPolicy = policy;
            }

            await tls.AuthenticateAsClientAsync(options, cancellationToken).ConfigureAwait(false);
        }

        private bool ValidateServerCertificate(object sender, X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors)
        {
            if (certificate is null || (errors & SslPolicyErrors.RemoteCertificateNotAvailable) != 0)
            {
                TlsFailure = "the VNC server presented no certificate";
                return false;
            }

            if ((errors & SslPolicyErrors.RemoteCertificateChainErrors) != 0)
            {
                var status = chain is null ? "" : string.Join(", ", chain.ChainStatus.Select(s => s.Status.ToString()).Distinct());
                TlsFailure = owner._trustedRoots is null
                    ? $"the VNC server's certificate ({certificate.Subject}) does not chain to a trusted root ({status}); set Targets:CaFile to its CA"
                    : $"the VNC server's certificate ({certificate.Subject}) does not chain to Targets:CaFile ({status})";
                return false;
            }

            if ((errors & SslPolicyErrors.RemoteCertificateNameMismatch) != 0 && Options.VerifyName && !NamesTarget(certificate))
            {
                var names = target.Name is null || target.Name == target.Address ? target.Address : $"{target.Address} nor {target.Name}";
                TlsFailure = $"the VNC server's certificate ({certificate.Subject}) names neither {names}; set Targets:VerifyName=false to accept it";
                return false;
            }

            return true;
        }

        /// <summary>.NET checked the name against TargetHost only; the address is as good a name as the given one.</summary>
        private bool NamesTarget(X509Certificate certificate)
        {
            using var full = new X509Certificate2(certificate);
            return full.MatchesHostname(target.Address) || (target.Name is { } name && full.MatchesHostname(name));
        }

        private async Task AnswerChallengeAsync(CancellationToken cancellationToken)
        {
            if (target.Password is not { } password)
            {
                throw PasswordRequired();
            }

            Stage = Stages.VncAuthentication;
            var challenge = new byte[RfbVncAuthentication.ChallengeLength];
            await Stream.ReadExactlyAsync(challenge, cancellationToken).ConfigureAwait(false);
            byte[] response;
            try
            {
                response = RfbVncAuthentication.Respond(password, challenge);
            }
            catch (CryptographicException)
            {
                // .NET refuses DES's weak keys, which a few passwords (such as eight NUL bytes) make.
                throw new RfbFailureException(RfbFailureKind.AuthenticationFailed,
                    "the password known for this console cannot be used for VNC authentication (it makes a weak DES key)");
            }

            await Stream.WriteAsync(response, cancellationToken).ConfigureAwait(false);
            await Stream.FlushAsync(cancellationToken).ConfigureAwait(false);
        }

        /// <summary>RFC 6143 section 7.1.3: U32 0 is OK; a failure carries a reason from 3.8 on.</summary>
        private async Task ReadSecurityResultAsync(bool usedPassword, CancellationToken cancellationToken)
        {
            Stage = Stages.SecurityResult;
            var result = await RfbWire.ReadU32Async(Stream, _scratch, cancellationToken).ConfigureAwait(false);
            if (result == 0)
            {
                return;
            }

            var reason = Version == RfbVersion.V3_8
                ? await RfbWire.ReadReasonAsync(Stream, _scratch, cancellationToken).ConfigureAwait(false)
                : "";
            var suffix = reason.Length == 0 ? "" : $" ({reason})";
            throw usedPassword
                ? new RfbFailureException(RfbFailureKind.AuthenticationFailed, "the VNC server refused the password" + suffix)
                : new RfbFailureException(RfbFailureKind.Refused, "the VNC server refused the login" + suffix);
        }

        /// <summary>RFC 6143 section 7.3.2. The name is cut to MaxDesktopNameBytes, at a UTF-8 character boundary, and
        /// the rest skipped in small pieces: a hostile server announcing 4 GiB costs no memory, only time, which the
        /// deadline bounds.</summary>
        private async Task<RfbServerInit> ReadServerInitAsync(CancellationToken cancellationToken)
        {
            var header = new byte[RfbServerInit.FixedLength];
            await Stream.ReadExactlyAsync(header, cancellationToken).ConfigureAwait(false);
            var nameLength = BinaryPrimitives.ReadUInt32BigEndian(header.AsSpan(20));
            var kept = (int)Math.Min(nameLength, (uint)Math.Max(0, Options.MaxDesktopNameBytes));
            var bytes = new byte[RfbServerInit.FixedLength + kept];
            header.CopyTo(bytes, 0);
            await Stream.ReadExactlyAsync(bytes.AsMemory(RfbServerInit.FixedLength), cancellationToken).ConfigureAwait(false);
            if (nameLength > kept)
            {
                await RfbWire.SkipAsync(Stream, nameLength - (uint)kept, cancellationToken).ConfigureAwait(false);
                kept = Utf8Boundary(bytes.AsSpan(RfbServerInit.FixedLength, kept));
                Array.Resize(ref bytes, RfbServerInit.FixedLength + kept);
                BinaryPrimitives.WriteUInt32BigEndian(bytes.AsSpan(20), (uint)kept);
            }

            return new RfbServerInit(bytes, RfbWire.Printable(bytes.AsSpan(RfbServerInit.FixedLength)));
        }

        /// <summary>The longest prefix that does not end inside a UTF-8 sequence.</summary>
        private static int Utf8Boundary(ReadOnlySpan<byte> name)
        {
            var end = name.Length;
            var back = 0;
            while (back < 3 && end - back - 1 >= 0 && (name[end - back - 1] & 0xC0) == 0x80)
            {
                back++;
            }

            if (end - back - 1 >= 0 && (name[end - back - 1] & 0x80) != 0)
            {
                var lead = name[end - back - 1];
                var sequence = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1;
                if (sequence != back + 1)
                {
                    return end - back - 1;
                }
            }

            return end;
        }

        private static RfbFailureException TlsRequired() =>
            new(RfbFailureKind.TlsRequired, "the VNC server offers no TLS and Targets:RequireTls is set");

        private static RfbFailureException PasswordRequired() =>
            new(RfbFailureKind.PasswordRequired, "the VNC server asks for a VNC password and none is known for this console");
    }
}
