using OrleansVncCluster.Relay.Cli;

namespace OrleansVncCluster.Tests.Cli;

/// <summary>How every admin command finds the node and its admin token (never from the command line).</summary>
public sealed class AdminClientTests
{
    private static Func<string, string?> Environment(params (string Name, string Value)[] values) =>
        name => values.FirstOrDefault(v => v.Name == name).Value;

    [Fact]
    public void WildcardAdminListen_IsReachedOnLoopback()
    {
        Assert.True(AdminClient.TryResolve(null, null, Environment(("Relay__AdminListen", "0.0.0.0:9092"), ("Admin__Token", "t0ken")), out var uri, out var token, out var problem), problem);
        Assert.Equal(new Uri("http://127.0.0.1:9092/"), uri);
        Assert.Equal("t0ken", token);
    }

    [Fact]
    public void TokenFile_WinsOverTheEnvironmentToken_AndIsTrimmed()
    {
        var file = Path.GetTempFileName();
        File.WriteAllText(file, "from-file\n");
        try
        {
            Assert.True(AdminClient.TryResolve(null, file, Environment(("Admin__Token", "from-env")), out var uri, out var token, out _));
            Assert.Equal("from-file", token);
            Assert.Equal(new Uri("http://127.0.0.1:8082/"), uri);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public void CredentialsDirectory_ProvidesTheAdminToken()
    {
        var directory = Directory.CreateTempSubdirectory().FullName;
        File.WriteAllText(Path.Combine(directory, "admin-token"), "credential");
        try
        {
            Assert.True(AdminClient.TryResolve("10.0.0.5:8082", null, Environment(("CREDENTIALS_DIRECTORY", directory)), out var uri, out var token, out _));
            Assert.Equal("credential", token);
            Assert.Equal(new Uri("http://10.0.0.5:8082/"), uri);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Theory]
    [InlineData(null, null, "no admin token")]
    [InlineData(null, "/nonexistent/admin-token", "does not exist")]
    [InlineData("not-an-address", null, "--admin 'not-an-address'")]
    public void BadArguments_SayWhatToFix(string? admin, string? tokenFile, string expected)
    {
        Assert.False(AdminClient.TryResolve(admin, tokenFile, Environment(), out _, out _, out var problem));
        Assert.Contains(expected, problem);
    }
}
