using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Time.Testing;
using OrleansVncCluster.Relay.Rfb;
using static OrleansVncCluster.Tests.Rfb.RfbTestPeer;

namespace OrleansVncCluster.Tests.Rfb;

/// <summary>The relay logging in to a scripted VNC server over an in-memory connection.</summary>
public sealed class RfbTargetLoginTests
{
    private static readonly RfbTarget WithPassword = new("127.0.0.1", Password: "secret12");

    [Fact]
    public async Task None_On38_ReachesServerInit_WithTheServersBytes()
    {
        var (client, server) = DuplexPipe.Create();
        var login = new RfbTargetLogin(new RfbTargetLoginOptions()).LoginAsync(client, new RfbTarget("127.0.0.1"));

        await WriteTextAsync(server, "RFB 003.008\n");
        Assert.Equal("RFB 003.008\n", await ReadTextAsync(server, 12));
        await WriteAsync(server, 1, 1);
        Assert.Equal(new byte[] { 1 }, await ReadAsync(server, 1));
        await WriteAsync(server, U32(0));
        Assert.Equal(new byte[] { 1 }, await ReadAsync(server, 1)); // ClientInit: shared
        var serverInit = ServerInit(1024, 768, "desk");
        await WriteAsync(server, serverInit);

        var result = await login;
        Assert.True(result.Succeeded, result.Reason);
        Assert.Equal(RfbVersion.V3_8, result.Version);
        Assert.Equal("None", result.Security);
        Assert.False(result.Encrypted);
        Assert.Same(client, result.Stream);
        Assert.Equal(1024, result.ServerInit.Width);
        Assert.Equal(768, result.ServerInit.Height);
        Assert.Equal("desk", result.ServerInit.Name);
        Assert.Equal(serverInit, result.ServerInit.Bytes.ToArray());
    }

    [Fact]
    public async Task None_On37_ReadsNoSecurityResult()
    {
        var (client, server) = DuplexPipe.Create();
        var login = new RfbTargetLogin(new RfbTargetLoginOptions()).LoginAsync(client, new RfbTarget("127.0.0.1"));

        await WriteTextAsync(server, "RFB 003.007\n");
        Assert.Equal("RFB 003.007\n", await ReadTextAsync(server, 12));
        await WriteAsync(server, 1, 1);
        Assert.Equal(new byte[] { 1 }, await ReadAsync(server, 1));
        Assert.Equal(new byte[] { 1 }, await ReadAsync(server, 1)); // ClientInit right away
        await WriteAsync(server, ServerInit(640, 480, "x"));

        var result = await login;
        Assert.True(result.Succeeded, result.Reason);
        Assert.Equal(RfbVersion.V3_7, result.Version);
    }

    [Theory]
    [InlineData("RFB 003.003\n", "RFB 003.003\n")]
    [InlineData("RFB 003.005\n", "RFB 003.003\n")]
    [InlineData("RFB 003.889\n", "RFB 003.008\n")]
    [InlineData("RFB 004.001\n", "RFB 003.008\n")]
    public async Task Version_AnswersTheHighestTheRelaySpeaks_NotAboveTheServers(string offered, string expected)
    {
        var (client, server) = DuplexPipe.Create();
        var login = new RfbTargetLogin(new RfbTargetLoginOptions()).LoginAsync(client, new RfbTarget("127.0.0.1"));

        await WriteTextAsync(server, offered);
        Assert.Equal(expected, await ReadTextAsync(server, 12));
        await server.DisposeAsync();
        Assert.Equal(RfbFailureKind.Closed, (await login).Failure);
    }

    [Fact]
    public async Task VncAuthentication_On33_AnswersTheChallengeWithTheBitReversedDesKey()
    {
        var (client, server) = DuplexPipe.Create();
        var login = new RfbTargetLogin(new RfbTargetLoginOptions()).LoginAsync(client, WithPassword);

        await WriteTextAsync(server, "RFB 003.003\n");
        await ReadAsync(server, 12);
        await WriteAsync(server, U32(2));
        var challenge = Enumerable.Range(1, 16).Select(i => (byte)(i * 13)).ToArray();
        await WriteAsync(server, challenge);
        Assert.Equal(ExpectedVncResponse("secret12", challenge), await ReadAsync(server, 16));
        await WriteAsync(server, U32(0));
        Assert.Equal(new byte[] { 1 }, await ReadAsync(server, 1));
        await WriteAsync(server, ServerInit(800, 600, "three-three"));

        var result = await login;
        Assert.True(result.Succeeded, result.Reason);
        Assert.Equal("VncAuth", result.Security);
        Assert.Equal(RfbVersion.V3_3, result.Version);
    }

    [Fact]
    public async Task VncAuthentication_UsesOnlyTheFirstEightBytesOfThePassword()
    {
        var (client, server) = DuplexPipe.Create();
        var login = new RfbTargetLogin(new RfbTargetLoginOptions()).LoginAsync(client, new RfbTarget("h", Password: "secret12-and-more"));

        await WriteTextAsync(server, "RFB 003.008\n");
        await ReadAsync(server, 12);
        await WriteAsync(server, 1, 2);
        Assert.Equal(new byte[] { 2 }, await ReadAsync(server, 1));
        var challenge = new byte[16];
        await WriteAsync(server, challenge);
        Assert.Equal(ExpectedVncResponse("secret12", challenge), await ReadAsync(server, 16));
        await server.DisposeAsync();
        await login;
    }

    [Fact]
    public async Task WrongPassword_On38_FailsWithTheServersReason()
    {
        var (client, server) = DuplexPipe.Create();
        var login = new RfbTargetLogin(new RfbTargetLoginOptions()).LoginAsync(client, WithPassword);

        await WriteTextAsync(server, "RFB 003.008\n");
        await ReadAsync(server, 12);
        await WriteAsync(server, 2, 1, 2);
        Assert.Equal(new byte[] { 2 }, await ReadAsync(server, 1)); // VNC authentication preferred over None when the password is known
        await WriteAsync(server, new byte[16]);
        await ReadAsync(server, 16);
        await WriteAsync(server, [.. U32(1), .. Reason("Authentication failure")]);

        var result = await login;
        Assert.Equal(RfbFailureKind.AuthenticationFailed, result.Failure);
        Assert.Equal("the VNC server refused the password (Authentication failure)", result.Reason);
        Assert.DoesNotContain("secret12", result.Reason + result.Security + result.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task WrongPassword_On37_FailsWithoutAReason()
    {
        var (client, server) = DuplexPipe.Create();
        var login = new RfbTargetLogin(new RfbTargetLoginOptions()).LoginAsync(client, WithPassword);

        await WriteTextAsync(server, "RFB 003.007\n");
        await ReadAsync(server, 12);
        await WriteAsync(server, 1, 2);
        await ReadAsync(server, 1);
        await WriteAsync(server, new byte[16]);
        await ReadAsync(server, 16);
        await WriteAsync(server, U32(1));

        var result = await login;
        Assert.Equal(RfbFailureKind.AuthenticationFailed, result.Failure);
        Assert.Equal("the VNC server refused the password", result.Reason);
    }

    [Fact]
    public async Task ServerWithNoSecurityTypes_FailsWithItsReason()
    {
        var (client, server) = DuplexPipe.Create();
        var login = new RfbTargetLogin(new RfbTargetLoginOptions()).LoginAsync(client, WithPassword);

        await WriteTextAsync(server, "RFB 003.008\n");
        await ReadAsync(server, 12);
        await WriteAsync(server, [0, .. Reason("Too many security failures")]);

        var result = await login;
        Assert.Equal(RfbFailureKind.Refused, result.Failure);
        Assert.Equal("the VNC server refused the connection: Too many security failures", result.Reason);
    }

    [Fact]
    public async Task HostileReasonLength_IsReadOnlyUpToTheCap()
    {
        var (client, server) = DuplexPipe.Create();
        var login = new RfbTargetLogin(new RfbTargetLoginOptions()).LoginAsync(client, WithPassword);

        await WriteTextAsync(server, "RFB 003.008\n");
        await ReadAsync(server, 12);
        await WriteAsync(server, [0, .. U32(uint.MaxValue), .. Enumerable.Repeat((byte)'A', 2000)]);

        var result = await login;
        Assert.Equal(RfbFailureKind.Refused, result.Failure);
        Assert.Equal("the VNC server refused the connection: ".Length + 1024 + 3, result.Reason!.Length);
    }

    [Fact]
    public async Task ReasonWithControlCharacters_CannotForgeLogLines()
    {
        var (client, server) = DuplexPipe.Create();
        var login = new RfbTargetLogin(new RfbTargetLoginOptions()).LoginAsync(client, WithPassword);

        await WriteTextAsync(server, "RFB 003.008\n");
        await ReadAsync(server, 12);
        await WriteAsync(server, [0, .. Reason("no\nINFO forged line")]);

        Assert.Equal("the VNC server refused the connection: no?INFO forged line", (await login).Reason);
    }

    [Fact]
    public async Task NotAVncServer_FailsSayingWhatItSent()
    {
        var (client, server) = DuplexPipe.Create();
        var login = new RfbTargetLogin(new RfbTargetLoginOptions()).LoginAsync(client, WithPassword);

        await WriteTextAsync(server, "HTTP/1.1 400");

        var result = await login;
        Assert.Equal(RfbFailureKind.NotRfb, result.Failure);
        Assert.Equal("the target is not a VNC server: it sent 'HTTP/1.1 400'", result.Reason);
    }

    [Fact]
    public async Task HostileDesktopNameLength_IsCutToTheCap_AndTheLengthRewritten()
    {
        var (client, server) = DuplexPipe.Create();
        var options = new RfbTargetLoginOptions { MaxDesktopNameBytes = 16 };
        var login = new RfbTargetLogin(options).LoginAsync(client, new RfbTarget("127.0.0.1"));

        await WriteTextAsync(server, "RFB 003.008\n");
        await ReadAsync(server, 12);
        await WriteAsync(server, 1, 1);
        await ReadAsync(server, 1);
        await WriteAsync(server, U32(0));
        await ReadAsync(server, 1);
        await WriteAsync(server, ServerInit(640, 480, "é" + new string('n', 20000)));

        var result = await login;
        Assert.True(result.Succeeded, result.Reason);
        Assert.Equal(24 + 16, result.ServerInit.Bytes.Length);
        Assert.Equal(U32(16), result.ServerInit.Bytes[20..24].ToArray());
        Assert.Equal("é" + new string('n', 14), result.ServerInit.Name);
    }

    [Fact]
    public async Task DesktopNameCut_EndsAtACharacterBoundary()
    {
        var (client, server) = DuplexPipe.Create();
        var login = new RfbTargetLogin(new RfbTargetLoginOptions { MaxDesktopNameBytes = 4 }).LoginAsync(client, new RfbTarget("h"));

        await WriteTextAsync(server, "RFB 003.007\n");
        await ReadAsync(server, 12);
        await WriteAsync(server, 1, 1);
        await ReadAsync(server, 2);
        await WriteAsync(server, ServerInit(1, 1, "abc€€"));

        var result = await login;
        Assert.True(result.Succeeded, result.Reason);
        Assert.Equal("abc", result.ServerInit.Name);
        Assert.Equal(24 + 3, result.ServerInit.Bytes.Length);
    }

    [Fact]
    public async Task Exclusive_SendsSharedFlagZero()
    {
        var (client, server) = DuplexPipe.Create();
        var login = new RfbTargetLogin(new RfbTargetLoginOptions { Exclusive = true }).LoginAsync(client, new RfbTarget("h"));

        await WriteTextAsync(server, "RFB 003.008\n");
        await ReadAsync(server, 12);
        await WriteAsync(server, 1, 1);
        await ReadAsync(server, 1);
        await WriteAsync(server, U32(0));
        Assert.Equal(new byte[] { 0 }, await ReadAsync(server, 1));
        await server.DisposeAsync();
        await login;
    }

    [Fact]
    public async Task RequireTls_RefusesAServerWithoutVeNCrypt()
    {
        var (client, server) = DuplexPipe.Create();
        var login = new RfbTargetLogin(new RfbTargetLoginOptions { RequireTls = true }).LoginAsync(client, WithPassword);

        await WriteTextAsync(server, "RFB 003.008\n");
        await ReadAsync(server, 12);
        await WriteAsync(server, 2, 2, 1);

        var result = await login;
        Assert.Equal(RfbFailureKind.TlsRequired, result.Failure);
        Assert.Equal("the VNC server offers no TLS and Targets:RequireTls is set", result.Reason);
    }

    [Fact]
    public async Task RequireTls_RefusesARfb33Server()
    {
        var (client, server) = DuplexPipe.Create();
        var login = new RfbTargetLogin(new RfbTargetLoginOptions { RequireTls = true }).LoginAsync(client, WithPassword);

        await WriteTextAsync(server, "RFB 003.003\n");
        await ReadAsync(server, 12);
        await WriteAsync(server, U32(2));

        Assert.Equal(RfbFailureKind.TlsRequired, (await login).Failure);
    }

    [Fact]
    public async Task VncAuthenticationWithoutAKnownPassword_FailsSayingSo()
    {
        var (client, server) = DuplexPipe.Create();
        var login = new RfbTargetLogin(new RfbTargetLoginOptions()).LoginAsync(client, new RfbTarget("h"));

        await WriteTextAsync(server, "RFB 003.008\n");
        await ReadAsync(server, 12);
        await WriteAsync(server, 1, 2);

        var result = await login;
        Assert.Equal(RfbFailureKind.PasswordRequired, result.Failure);
        Assert.Equal("the VNC server asks for a VNC password and none is known for this console", result.Reason);
    }

    [Fact]
    public async Task UnsupportedSecurityTypes_AreNamedInTheReason()
    {
        var (client, server) = DuplexPipe.Create();
        var login = new RfbTargetLogin(new RfbTargetLoginOptions()).LoginAsync(client, WithPassword);

        await WriteTextAsync(server, "RFB 003.008\n");
        await ReadAsync(server, 12);
        await WriteAsync(server, 2, 16, 5);

        var result = await login;
        Assert.Equal(RfbFailureKind.NoAcceptableSecurity, result.Failure);
        Assert.Equal("the VNC server offers security types Tight, RA2; the relay supports None, VncAuth and VeNCrypt", result.Reason);
    }

    [Fact]
    public async Task SilentServer_FailsAtTheDeadline_NamingWhatItWaitedFor()
    {
        var time = new FakeTimeProvider();
        var (client, _) = DuplexPipe.Create();
        var login = new RfbTargetLogin(new RfbTargetLoginOptions { Timeout = TimeSpan.FromSeconds(5) }, time).LoginAsync(client, WithPassword);

        time.Advance(TimeSpan.FromSeconds(5));

        var result = await login.WaitAsync(Patience);
        Assert.Equal(RfbFailureKind.Timeout, result.Failure);
        Assert.Equal("the VNC server did not finish the login within 5 s (waiting for the protocol version)", result.Reason);
    }

    [Fact]
    public async Task CallerCancellation_IsAResult_NotAnException()
    {
        using var cancel = new CancellationTokenSource();
        var (client, _) = DuplexPipe.Create();
        var login = new RfbTargetLogin(new RfbTargetLoginOptions()).LoginAsync(client, WithPassword, cancel.Token);

        await cancel.CancelAsync();

        Assert.Equal(RfbFailureKind.Cancelled, (await login.WaitAsync(Patience)).Failure);
    }

    [Fact]
    public async Task VeNCryptWithoutTlsSubtypesTheRelayCanUse_FallsBackToVncAuthenticationInside()
    {
        // TigerVNC's default, TLSVnc,VncAuth: TLSVnc is anonymous TLS, which .NET does not speak.
        var (client, server) = DuplexPipe.Create();
        var login = new RfbTargetLogin(new RfbTargetLoginOptions()).LoginAsync(client, WithPassword);

        await WriteTextAsync(server, "RFB 003.008\n");
        await ReadAsync(server, 12);
        await WriteAsync(server, 2, 19, 2);
        Assert.Equal(new byte[] { 19 }, await ReadAsync(server, 1));
        await WriteAsync(server, 0, 2);
        Assert.Equal(new byte[] { 0, 2 }, await ReadAsync(server, 2));
        await WriteAsync(server, [0, 2, .. U32(258), .. U32(2)]);
        Assert.Equal(U32(2), await ReadAsync(server, 4));
        var challenge = new byte[16];
        await WriteAsync(server, challenge);
        Assert.Equal(ExpectedVncResponse("secret12", challenge), await ReadAsync(server, 16));
        await WriteAsync(server, U32(0));
        await ReadAsync(server, 1);
        await WriteAsync(server, ServerInit(10, 10, ""));

        var result = await login;
        Assert.True(result.Succeeded, result.Reason);
        Assert.Equal("VeNCrypt/VncAuth", result.Security);
        Assert.False(result.Encrypted);
    }

    [Fact]
    public async Task VeNCryptNoneInside_On37_ReadsNoSecurityResult()
    {
        var (client, server) = DuplexPipe.Create();
        var login = new RfbTargetLogin(new RfbTargetLoginOptions()).LoginAsync(client, new RfbTarget("h"));

        await WriteTextAsync(server, "RFB 003.007\n");
        await ReadAsync(server, 12);
        await WriteAsync(server, 1, 19);
        await ReadAsync(server, 1);
        await WriteAsync(server, 0, 2);
        await ReadAsync(server, 2);
        await WriteAsync(server, [0, 1, .. U32(1)]);
        Assert.Equal(U32(1), await ReadAsync(server, 4));
        Assert.Equal(new byte[] { 1 }, await ReadAsync(server, 1)); // ClientInit right away
        await WriteAsync(server, ServerInit(8, 8, "n"));

        var result = await login;
        Assert.True(result.Succeeded, result.Reason);
        Assert.Equal("VeNCrypt/None", result.Security);
    }

    [Fact]
    public async Task PasswordMakingAWeakDesKey_FailsSayingSo()
    {
        var (client, server) = DuplexPipe.Create();
        var login = new RfbTargetLogin(new RfbTargetLoginOptions()).LoginAsync(client, new RfbTarget("h", Password: "\0\0\0\0\0\0\0\0"));

        await WriteTextAsync(server, "RFB 003.008\n");
        await ReadAsync(server, 12);
        await WriteAsync(server, 1, 2);
        await ReadAsync(server, 1);
        await WriteAsync(server, new byte[16]);

        var result = await login;
        Assert.Equal(RfbFailureKind.AuthenticationFailed, result.Failure);
        Assert.Contains("weak DES key", result.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task VeNCryptWithoutX509_AndRequireTls_FailsNamingTheSubtypes()
    {
        var (client, server) = DuplexPipe.Create();
        var login = new RfbTargetLogin(new RfbTargetLoginOptions { RequireTls = true }).LoginAsync(client, WithPassword);

        await WriteTextAsync(server, "RFB 003.008\n");
        await ReadAsync(server, 12);
        await WriteAsync(server, 2, 19, 2);
        await ReadAsync(server, 1);
        await WriteAsync(server, 0, 2);
        await ReadAsync(server, 2);
        await WriteAsync(server, [0, 2, .. U32(258), .. U32(2)]);

        var result = await login;
        Assert.Equal(RfbFailureKind.TlsRequired, result.Failure);
        Assert.Equal("the VNC server offers no X.509 TLS (VeNCrypt subtypes TLSVnc, VncAuth) and Targets:RequireTls is set", result.Reason);
    }

    [Fact]
    public async Task X509Vnc_WithACertificateFromTheCaFile_LogsInInsideTls()
    {
        using var ca = CreateCa("rfb-test-ca");
        using var certificate = CreateServerCertificate(ca);
        var login = new RfbTargetLogin(new RfbTargetLoginOptions { CaFile = WriteCaFile(ca) });

        var (result, challengeAnswered) = await X509LoginAsync(login, WithPassword, certificate, RfbTestX509Subtype.X509Vnc);

        Assert.True(result.Succeeded, result.Reason);
        Assert.True(challengeAnswered);
        Assert.Equal("VeNCrypt/X509Vnc", result.Security);
        Assert.True(result.Encrypted);
        Assert.Equal(320, result.ServerInit.Width);
    }

    [Fact]
    public async Task X509None_IsChosen_WhenNoPasswordIsKnown()
    {
        using var ca = CreateCa("rfb-test-ca");
        using var certificate = CreateServerCertificate(ca);
        var login = new RfbTargetLogin(new RfbTargetLoginOptions { CaFile = WriteCaFile(ca) });

        var (result, _) = await X509LoginAsync(login, new RfbTarget("127.0.0.1"), certificate, RfbTestX509Subtype.X509None);

        Assert.True(result.Succeeded, result.Reason);
        Assert.Equal("VeNCrypt/X509None", result.Security);
    }

    [Fact]
    public async Task X509_WithACertificateOfAnotherCa_FailsSayingItDoesNotChain()
    {
        using var ca = CreateCa("rfb-test-ca");
        using var other = CreateCa("someone-else");
        using var certificate = CreateServerCertificate(other);
        var login = new RfbTargetLogin(new RfbTargetLoginOptions { CaFile = WriteCaFile(ca) });

        var (result, _) = await X509LoginAsync(login, WithPassword, certificate, RfbTestX509Subtype.X509Vnc);

        Assert.Equal(RfbFailureKind.TlsFailed, result.Failure);
        Assert.StartsWith("the VNC server's certificate (CN=vnc.test) does not chain to Targets:CaFile", result.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task X509_WithACertificateNamingNeitherAddressNorName_FailsSayingSo()
    {
        using var ca = CreateCa("rfb-test-ca");
        using var certificate = CreateServerCertificate(ca);
        var login = new RfbTargetLogin(new RfbTargetLoginOptions { CaFile = WriteCaFile(ca) });

        var (result, _) = await X509LoginAsync(login, WithPassword with { Address = "10.1.2.3", Name = "other.test" }, certificate, RfbTestX509Subtype.X509Vnc);

        Assert.Equal(RfbFailureKind.TlsFailed, result.Failure);
        Assert.Equal("the VNC server's certificate (CN=vnc.test) names neither 10.1.2.3 nor other.test; set Targets:VerifyName=false to accept it", result.Reason);
    }

    [Fact]
    public async Task X509_AcceptsACertificateNamingTheGivenName_WhenTheAddressDiffers()
    {
        using var ca = CreateCa("rfb-test-ca");
        using var certificate = CreateServerCertificate(ca);
        var login = new RfbTargetLogin(new RfbTargetLoginOptions { CaFile = WriteCaFile(ca) });

        var (result, _) = await X509LoginAsync(login, WithPassword with { Address = "10.1.2.3", Name = "vnc.test" }, certificate, RfbTestX509Subtype.X509Vnc);

        Assert.True(result.Succeeded, result.Reason);
    }

    [Fact]
    public async Task X509_AcceptsACertificateNamingTheAddress_WhenTheGivenNameDiffers()
    {
        using var ca = CreateCa("rfb-test-ca");
        using var certificate = CreateServerCertificate(ca);
        var login = new RfbTargetLogin(new RfbTargetLoginOptions { CaFile = WriteCaFile(ca) });

        var (result, _) = await X509LoginAsync(login, WithPassword with { Name = "vm-42" }, certificate, RfbTestX509Subtype.X509Vnc);

        Assert.True(result.Succeeded, result.Reason);
    }

    [Fact]
    public async Task X509_WithVerifyNameOff_AcceptsAnyNameFromTheCa()
    {
        using var ca = CreateCa("rfb-test-ca");
        using var certificate = CreateServerCertificate(ca);
        var login = new RfbTargetLogin(new RfbTargetLoginOptions { CaFile = WriteCaFile(ca), VerifyName = false });

        var (result, _) = await X509LoginAsync(login, WithPassword with { Address = "10.1.2.3" }, certificate, RfbTestX509Subtype.X509Vnc);

        Assert.True(result.Succeeded, result.Reason);
    }

    [Fact]
    public async Task X509_PresentsTheConfiguredClientCertificate_WhenTheServerAsks()
    {
        using var ca = CreateCa("rfb-test-ca");
        using var certificate = CreateServerCertificate(ca);
        using var clientCertificate = CreateServerCertificate(ca, "relay-node");
        var directory = Directory.CreateTempSubdirectory("ovc-rfb-").FullName;
        var (certificateFile, keyFile) = (Path.Combine(directory, "client.crt"), Path.Combine(directory, "client.key"));
        File.WriteAllText(certificateFile, clientCertificate.ExportCertificatePem());
        File.WriteAllText(keyFile, clientCertificate.GetECDsaPrivateKey()!.ExportPkcs8PrivateKeyPem());
        var login = new RfbTargetLogin(new RfbTargetLoginOptions { CaFile = WriteCaFile(ca), ClientCertificateFile = certificateFile, ClientKeyFile = keyFile });
        string? presented = null;

        var (result, _) = await X509LoginAsync(login, WithPassword, certificate, RfbTestX509Subtype.X509Vnc, c => presented = c?.Subject);

        Assert.True(result.Succeeded, result.Reason);
        Assert.Equal("CN=relay-node", presented);
    }

    [Fact]
    public void Configuration_CaFileThatDoesNotLoad_IsRefusedNamingTheSetting()
    {
        var path = Path.Combine(Directory.CreateTempSubdirectory("ovc-rfb-").FullName, "ca.pem");
        File.WriteAllText(path, "not a certificate");

        var error = Assert.Throws<InvalidOperationException>(() => new RfbTargetLogin(new RfbTargetLoginOptions { CaFile = path }));
        Assert.Contains("Targets:CaFile", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Configuration_ClientCertificateWithoutKey_IsRefused()
    {
        var error = Assert.Throws<InvalidOperationException>(() => new RfbTargetLogin(new RfbTargetLoginOptions { ClientCertificateFile = "/x.pem" }));
        Assert.Contains("Targets:ClientKeyFile", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Target_NeverPrintsItsPassword()
    {
        var text = new RfbTarget("10.0.0.1", "vm", "hunter22").ToString();
        Assert.DoesNotContain("hunter22", text, StringComparison.Ordinal);
        Assert.Contains("10.0.0.1", text, StringComparison.Ordinal);
    }

    /// <summary>Plays a VeNCrypt server offering X509Vnc, X509None and VncAuth that chooses nothing itself, then runs
    /// TLS with <paramref name="certificate"/> and the inner exchange of <paramref name="expected"/>.</summary>
    private static async Task<(RfbTargetLoginResult Result, bool ChallengeAnswered)> X509LoginAsync(
        RfbTargetLogin login, RfbTarget target, X509Certificate2 certificate, RfbTestX509Subtype expected, Action<X509Certificate?>? clientCertificate = null)
    {
        var (client, server) = DuplexPipe.Create();
        var loginTask = login.LoginAsync(client, target);
        var challengeAnswered = false;
        await WriteTextAsync(server, "RFB 003.008\n");
        await ReadAsync(server, 12);
        await WriteAsync(server, 3, 19, 2, 1);
        Assert.Equal(new byte[] { 19 }, await ReadAsync(server, 1));
        await WriteAsync(server, 0, 2);
        await ReadAsync(server, 2);
        await WriteAsync(server, [0, 3, .. U32(261), .. U32(260), .. U32(2)]);
        Assert.Equal(U32((uint)expected), await ReadAsync(server, 4));
        await WriteAsync(server, 1);
        await using var tls = new SslStream(server);
        try
        {
            using var timeout = new CancellationTokenSource(Patience);
            var options = new SslServerAuthenticationOptions { ServerCertificate = certificate };
            if (clientCertificate is not null)
            {
                options.ClientCertificateRequired = true;
                options.RemoteCertificateValidationCallback = (_, presented, _, _) =>
                {
                    clientCertificate(presented);
                    return presented is not null;
                };
            }

            await tls.AuthenticateAsServerAsync(options, timeout.Token);
        }
        catch (Exception exception) when (exception is System.Security.Authentication.AuthenticationException or IOException)
        {
            return (await loginTask.WaitAsync(Patience), false);
        }

        // With TLS 1.3 the server's handshake ends before the client has judged the certificate: a refusal shows as
        // the login ending while the server still waits.
        var inner = InnerExchangeAsync(tls, target, expected);
        if (await Task.WhenAny(loginTask, inner).WaitAsync(Patience) == loginTask && !loginTask.Result.Succeeded)
        {
            return (loginTask.Result, false);
        }

        try
        {
            challengeAnswered = await inner;
        }
        catch (Exception exception) when (exception is System.Security.Authentication.AuthenticationException or IOException)
        {
            // The client's alert reached the server's read before the login task finished.
            return (await loginTask.WaitAsync(Patience), false);
        }
        return (await loginTask.WaitAsync(Patience), challengeAnswered);
    }

    private static async Task<bool> InnerExchangeAsync(Stream tls, RfbTarget target, RfbTestX509Subtype expected)
    {
        var challengeAnswered = false;
        if (expected == RfbTestX509Subtype.X509Vnc)
        {
            var challenge = new byte[16];
            await WriteAsync(tls, challenge);
            challengeAnswered = (await ReadAsync(tls, 16)).SequenceEqual(ExpectedVncResponse(target.Password!, challenge));
        }

        await WriteAsync(tls, U32(0));
        await ReadAsync(tls, 1);
        await WriteAsync(tls, ServerInit(320, 200, "tls"));
        return challengeAnswered;
    }
}
