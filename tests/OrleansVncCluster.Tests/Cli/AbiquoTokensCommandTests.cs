using OrleansVncCluster.AbiquoSimulator.Faults;
using OrleansVncCluster.Relay.Cli;
using OrleansVncCluster.Relay.Sources;
using OrleansVncCluster.Relay.Tokens;
using OrleansVncCluster.Tests.Abiquo;

namespace OrleansVncCluster.Tests.Cli;

/// <summary>The drop-in for the legacy cron job writes websockify's token file, and never damages it.</summary>
public sealed class AbiquoTokensCommandTests : IClassFixture<SimulatorFixture>, IDisposable
{
    private const string OldContent = "# the old file\n0123456789abcdef0123456789abcdef: 10.0.0.1:5900\n";

    private readonly SimulatorFixture _fixture;
    private readonly string _directory = Directory.CreateTempSubdirectory("abiquo-tokens-").FullName;

    public AbiquoTokensCommandTests(SimulatorFixture fixture)
    {
        _fixture = fixture;
        fixture.Reset();
        File.WriteAllText(PasswordFile, SimulatorFixture.Password + "\n");
    }

    private string PasswordFile => Path.Combine(_directory, "password");

    private string TokenFilePath => Path.Combine(_directory, "config.vnc");

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public async Task Run_WritesOneLinePerDeployedVmAddress()
    {
        var (code, stdout, stderr) = await RunAsync("abiquo-tokens", "-a", _fixture.Host.ApiUrl, "-u", "admin", "--password-file", PasswordFile, "-f", TokenFilePath);

        Assert.True(code == 0, stderr);
        Assert.Contains("wrote", stdout, StringComparison.Ordinal);
        var written = TokenFile.Load(TokenFilePath);
        Assert.Empty(written.Errors);
        var expected = _fixture.AllVms().Where(v => v.Vm.VdrpPort > 0)
            .Select(v => (Token: TokenText.Md5Token(v.Vm.VdrpIP!, v.Vm.VdrpPort), Target: ConsoleTarget.Tcp(v.Vm.VdrpIP!, v.Vm.VdrpPort)))
            .Distinct().ToDictionary(p => p.Token, p => p.Target);
        Assert.Equal(expected.OrderBy(p => p.Key), written.Tokens.OrderBy(p => p.Key));
        Assert.Equal(["config.vnc", "password"], Directory.GetFiles(_directory).Select(Path.GetFileName).Order());
    }

    [Fact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public async Task Run_ReplacesAnExistingFileKeepingItsMode()
    {
        File.WriteAllText(TokenFilePath, OldContent);
        File.SetUnixFileMode(TokenFilePath, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead);

        var (code, _, stderr) = await RunAsync("-a", _fixture.Host.ApiUrl, "-u", "admin", "--password-file", PasswordFile, "-f", TokenFilePath, "--force");

        Assert.True(code == 0, stderr);
        Assert.DoesNotContain("0123456789abcdef", File.ReadAllText(TokenFilePath), StringComparison.Ordinal);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead, File.GetUnixFileMode(TokenFilePath));
    }

    [Fact]
    public async Task WrongPassword_KeepsTheOldFileAndExits1()
    {
        File.WriteAllText(TokenFilePath, OldContent);
        File.WriteAllText(PasswordFile, "wrong");

        var (code, _, stderr) = await RunAsync("-a", _fixture.Host.ApiUrl, "-u", "admin", "--password-file", PasswordFile, "-f", TokenFilePath);

        Assert.Equal(1, code);
        Assert.Contains("401", stderr, StringComparison.Ordinal);
        Assert.Contains("left unchanged", stderr, StringComparison.Ordinal);
        Assert.Equal(OldContent, File.ReadAllText(TokenFilePath));
    }

    [Fact]
    public async Task TruncatedAnswer_KeepsTheOldFileAndLeavesNoTemporaryFile()
    {
        File.WriteAllText(TokenFilePath, OldContent);
        _fixture.Simulator.Faults.Add(new FaultRule { Kind = FaultKind.Truncate, Path = "virtualmachines" });

        var (code, _, stderr) = await RunAsync("-a", _fixture.Host.ApiUrl, "-u", "admin", "--password-file", PasswordFile, "-f", TokenFilePath);

        Assert.Equal(1, code);
        Assert.Contains("truncated", stderr, StringComparison.Ordinal);
        Assert.Equal(OldContent, File.ReadAllText(TokenFilePath));
        Assert.Equal(2, Directory.GetFiles(_directory).Length);
    }

    [Fact]
    public async Task AnswerRemovingMostTokens_IsHeldOnceThenWritten()
    {
        string[] args = ["-a", _fixture.Host.ApiUrl, "-u", "admin", "--password-file", PasswordFile, "-f", TokenFilePath];
        Assert.Equal(0, (await RunAsync(args)).Code);
        var full = File.ReadAllText(TokenFilePath);
        _fixture.Simulator.Faults.Add(new FaultRule { Kind = FaultKind.Empty, Path = "enterprises?" });

        var (held, _, heldError) = await RunAsync(args);
        Assert.Equal(1, held);
        Assert.Contains("held", heldError, StringComparison.Ordinal);
        Assert.Equal(full, File.ReadAllText(TokenFilePath));

        var (confirmed, _, confirmedError) = await RunAsync(args);
        Assert.True(confirmed == 0, confirmedError);
        Assert.Empty(TokenFile.Load(TokenFilePath).Tokens);
        Assert.False(File.Exists(TokenFilePath + ".held"));
    }

    [Theory]
    [InlineData("-p")]
    [InlineData("--password")]
    public async Task PasswordOnTheCommandLine_IsRefused(string option)
    {
        var (code, _, stderr) = await RunAsync("-a", _fixture.Host.ApiUrl, "-u", "admin", option, "xabiquo", "-f", TokenFilePath);

        Assert.Equal(2, code);
        Assert.Contains("--password-file", stderr, StringComparison.Ordinal);
        Assert.False(File.Exists(TokenFilePath));
    }

    [Fact]
    public async Task MissingArguments_AreNamed()
    {
        var (code, _, stderr) = await RunAsync("-a", _fixture.Host.ApiUrl);

        Assert.Equal(2, code);
        Assert.Contains("-u USER", stderr, StringComparison.Ordinal);
        Assert.Contains("-f TOKEN_FILE", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task PasswordFromTheEnvironment_IsUsed()
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();

        var code = await AbiquoTokensCommand.RunAsync(["-a", _fixture.Host.ApiUrl, "-u", "admin", "-f", TokenFilePath], stdout, stderr,
            name => name == AbiquoTokensCommand.PasswordVariable ? SimulatorFixture.Password : null, TestContext.Current.CancellationToken);

        Assert.True(code == 0, stderr.ToString());
    }

    private static async Task<(int Code, string Stdout, string Stderr)> RunAsync(params string[] args)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        var code = await AbiquoTokensCommand.RunAsync(args, stdout, stderr, _ => null, TestContext.Current.CancellationToken);
        return (code, stdout.ToString(), stderr.ToString());
    }
}
