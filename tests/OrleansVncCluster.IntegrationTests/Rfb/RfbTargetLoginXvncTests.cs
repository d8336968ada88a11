using System.Net.Sockets;
using OrleansVncCluster.IntegrationTests.Infrastructure;
using OrleansVncCluster.IntegrationTests.Security;
using OrleansVncCluster.Relay.Rfb;

namespace OrleansVncCluster.IntegrationTests.Rfb;

/// <summary>The relay's RFB login against real TigerVNC servers: VNC authentication, VeNCrypt X509Vnc with a private CA,
/// and Targets:RequireTls.</summary>
public sealed class RfbTargetLoginXvncTests
{
    private const string Password = "secret12";

    [Fact]
    public async Task VncAuth_WithTheRightPassword_ReachesServerInit_WithTheDesktopSize_AndDraws()
    {
        await using var vnc = await XvncServer.StartAsync(Password, width: 800, height: 600);
        using var tcp = await ConnectAsync(vnc.Port);

        var result = await new RfbTargetLogin(new RfbTargetLoginOptions()).LoginAsync(tcp.GetStream(), new RfbTarget("127.0.0.1", Password: Password));

        Assert.True(result.Succeeded, result.Reason);
        Assert.Equal("VncAuth", result.Security);
        Assert.Equal(RfbVersion.V3_8, result.Version);
        Assert.Equal((800, 600), (result.ServerInit.Width, result.ServerInit.Height));
        Assert.Equal(0, await FirstServerMessageTypeAsync(result.Stream, 800, 600)); // FramebufferUpdate
    }

    [Fact]
    public async Task VncAuth_WithAWrongPassword_IsRefusedWithTheReason()
    {
        await using var vnc = await XvncServer.StartAsync(Password);
        using var tcp = await ConnectAsync(vnc.Port);

        var result = await new RfbTargetLogin(new RfbTargetLoginOptions()).LoginAsync(tcp.GetStream(), new RfbTarget("127.0.0.1", Password: "wrong123"));

        Assert.Equal(RfbFailureKind.AuthenticationFailed, result.Failure);
        Assert.StartsWith("the VNC server refused the password (", result.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task X509Vnc_WithThePrivateCa_LogsInInsideTls_AndDraws()
    {
        var directory = Repo.TempDirectory("rfb-x509");
        using var ca = TestCertificates.CreateCa("rfb-private-ca");
        var caFile = TestCertificates.WriteCaPem(ca, directory);
        await using var vnc = await XvncServer.StartAsync(Password, width: 1024, height: 768, securityTypes: "X509Vnc", x509: TestCertificates.WriteServerPem(ca, "vnc-target", directory));
        using var tcp = await ConnectAsync(vnc.Port);

        var result = await new RfbTargetLogin(new RfbTargetLoginOptions { CaFile = caFile, RequireTls = true })
            .LoginAsync(tcp.GetStream(), new RfbTarget("127.0.0.1", Password: Password));

        Assert.True(result.Succeeded, result.Reason);
        Assert.Equal("VeNCrypt/X509Vnc", result.Security);
        Assert.True(result.Encrypted);
        Assert.Equal((1024, 768), (result.ServerInit.Width, result.ServerInit.Height));
        Assert.Equal(0, await FirstServerMessageTypeAsync(result.Stream, 1024, 768));
    }

    [Fact]
    public async Task X509Vnc_WithACertificateOfAnotherCa_IsRefusedWithTheReason()
    {
        var directory = Repo.TempDirectory("rfb-x509");
        using var ca = TestCertificates.CreateCa("rfb-private-ca");
        using var otherCa = TestCertificates.CreateCa("somebody-else");
        var caFile = TestCertificates.WriteCaPem(ca, directory);
        await using var vnc = await XvncServer.StartAsync(Password, securityTypes: "X509Vnc", x509: TestCertificates.WriteServerPem(otherCa, "vnc-target", directory));
        using var tcp = await ConnectAsync(vnc.Port);

        var result = await new RfbTargetLogin(new RfbTargetLoginOptions { CaFile = caFile })
            .LoginAsync(tcp.GetStream(), new RfbTarget("127.0.0.1", Password: Password));

        Assert.Equal(RfbFailureKind.TlsFailed, result.Failure);
        Assert.StartsWith("the VNC server's certificate (CN=vnc-target) does not chain to Targets:CaFile", result.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RequireTls_RefusesAPlainVncAuthServer_WithTheReason()
    {
        await using var vnc = await XvncServer.StartAsync(Password);
        using var tcp = await ConnectAsync(vnc.Port);

        var result = await new RfbTargetLogin(new RfbTargetLoginOptions { RequireTls = true })
            .LoginAsync(tcp.GetStream(), new RfbTarget("127.0.0.1", Password: Password));

        Assert.Equal(RfbFailureKind.TlsRequired, result.Failure);
        Assert.Equal("the VNC server offers no TLS and Targets:RequireTls is set", result.Reason);
    }

    [Fact]
    public async Task X509None_WithoutAKnownPassword_LogsInInsideTls()
    {
        var directory = Repo.TempDirectory("rfb-x509");
        using var ca = TestCertificates.CreateCa("rfb-private-ca");
        var caFile = TestCertificates.WriteCaPem(ca, directory);
        await using var vnc = await XvncServer.StartAsync(Password, securityTypes: "X509None", x509: TestCertificates.WriteServerPem(ca, "vnc-target", directory));
        using var tcp = await ConnectAsync(vnc.Port);

        var result = await new RfbTargetLogin(new RfbTargetLoginOptions { CaFile = caFile })
            .LoginAsync(tcp.GetStream(), new RfbTarget("10.20.30.40", Name: "vnc-target"));

        Assert.True(result.Succeeded, result.Reason);
        Assert.Equal("VeNCrypt/X509None", result.Security);
    }

    [Fact]
    public async Task TigerVncDefaultTypes_TlsVncAndVncAuth_LogInWithVncAuthInsideVeNCrypt()
    {
        await using var vnc = await XvncServer.StartAsync(Password, securityTypes: "TLSVnc,VncAuth");
        using var tcp = await ConnectAsync(vnc.Port);

        var result = await new RfbTargetLogin(new RfbTargetLoginOptions()).LoginAsync(tcp.GetStream(), new RfbTarget("127.0.0.1", Password: Password));

        Assert.True(result.Succeeded, result.Reason);
        Assert.Equal("VeNCrypt/VncAuth", result.Security);
        Assert.False(result.Encrypted);
    }

    private static async Task<TcpClient> ConnectAsync(int port)
    {
        var tcp = new TcpClient();
        await tcp.ConnectAsync("127.0.0.1", port);
        return tcp;
    }

    /// <summary>Asks for the whole screen (RFC 6143 section 7.5.3) and returns the type byte of the server's answer.</summary>
    private static async Task<byte> FirstServerMessageTypeAsync(Stream stream, int width, int height)
    {
        byte[] request = [3, 0, 0, 0, 0, 0, (byte)(width >> 8), (byte)width, (byte)(height >> 8), (byte)height];
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await stream.WriteAsync(request, timeout.Token);
        await stream.FlushAsync(timeout.Token);
        var type = new byte[1];
        await stream.ReadExactlyAsync(type, timeout.Token);
        return type[0];
    }
}
