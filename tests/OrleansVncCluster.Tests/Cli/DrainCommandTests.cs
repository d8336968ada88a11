using OrleansVncCluster.Relay.Cli;

namespace OrleansVncCluster.Tests.Cli;

public sealed class DrainCommandTests
{
    private static Func<string, string?> Environment(params (string Name, string Value)[] values) =>
        name => values.FirstOrDefault(v => v.Name == name).Value;

    [Fact]
    public void WildcardAdminListen_IsReachedOnLoopback()
    {
        Assert.True(DrainCommand.TryParse([], Environment(("Relay__AdminListen", "0.0.0.0:9092"), ("Admin__Token", "t0ken")), out var uri, out var token, out var problem), problem);
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
            Assert.True(DrainCommand.TryParse(["--token-file", file], Environment(("Admin__Token", "from-env")), out var uri, out var token, out _));
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
            Assert.True(DrainCommand.TryParse(["--admin", "10.0.0.5:8082"], Environment(("CREDENTIALS_DIRECTORY", directory)), out var uri, out var token, out _));
            Assert.Equal("credential", token);
            Assert.Equal(new Uri("http://10.0.0.5:8082/"), uri);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Theory]
    [InlineData(new string[0], "no admin token")]
    [InlineData(new[] { "--token-file", "/nonexistent/admin-token" }, "does not exist")]
    [InlineData(new[] { "--admin", "not-an-address" }, "--admin 'not-an-address'")]
    [InlineData(new[] { "--bogus" }, "unknown or incomplete argument '--bogus'")]
    public void BadArguments_SayWhatToFix(string[] arguments, string expected)
    {
        Assert.False(DrainCommand.TryParse(arguments, Environment(), out _, out _, out var problem));
        Assert.Contains(expected, problem);
    }
}
