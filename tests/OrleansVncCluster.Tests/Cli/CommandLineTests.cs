using OrleansVncCluster.Relay.Cli;

namespace OrleansVncCluster.Tests.Cli;

/// <summary>The legacy init scripts' command lines keep working.</summary>
public sealed class CommandLineTests
{
    [Fact]
    public void LegacyGuideCommand_MapsToListenAndTokenFile()
    {
        var request = CommandLine.Parse(["-D", "41337", "--target-config=/opt/websockify/config.vnc"]);
        Assert.Null(request.Error);
        Assert.True(request.Daemonize);
        Assert.Equal("0.0.0.0:41337", request.Settings["Relay:Listen"]);
        Assert.Equal("/opt/websockify/config.vnc", request.Settings["Tokens:Files:0"]);
    }

    [Fact]
    public void TlsAndHeartbeatAndWeb_MapToRelaySettings()
    {
        var request = CommandLine.Parse(["127.0.0.1:6080", "--cert", "/c.pem", "--key=/k.pem", "--heartbeat=20", "--web", "/srv/novnc"]);
        Assert.Null(request.Error);
        Assert.Equal("127.0.0.1:6080", request.Settings["Relay:Listen"]);
        Assert.Equal("/c.pem", request.Settings["Relay:CertificateFile"]);
        Assert.Equal("/k.pem", request.Settings["Relay:KeyFile"]);
        Assert.Equal("00:00:20", request.Settings["Relay:KeepAliveInterval"]);
        Assert.Equal("/srv/novnc", request.Settings["Relay:WebRoot"]);
    }

    [Fact]
    public void TokenPluginTokenFile_UsesTheTokenSource()
    {
        var request = CommandLine.Parse(["6080", "--token-plugin", "TokenFile", "--token-source", "/etc/tokens/"]);
        Assert.Equal("/etc/tokens/", request.Settings["Tokens:Files:0"]);
    }

    [Theory]
    [InlineData("--token-plugin=JWTTokenApi", "--token-source=x")]
    [InlineData("--frobnicate", "1")]
    [InlineData("6080", "127.0.0.1:5900")]
    [InlineData("--heartbeat=soon", "6080")]
    public void UnsupportedArguments_AreRefusedWithAReason(string first, string second)
    {
        var request = CommandLine.Parse([first, second]);
        Assert.False(string.IsNullOrEmpty(request.Error));
    }

    [Fact]
    public void NativeSettings_PassThroughToConfiguration()
    {
        var request = CommandLine.Parse(["--Relay:IdleTimeout=00:30:00"]);
        Assert.Equal(["--Relay:IdleTimeout=00:30:00"], request.NativeArgs);
    }
}
