using OrleansVncCluster.Relay.Abiquo;

namespace OrleansVncCluster.Tests.Abiquo;

/// <summary>Start-up validation names what to fix, and the password never shows.</summary>
public sealed class AbiquoOptionsTests
{
    private static AbiquoOptions Valid() => new() { ApiUrl = "https://abiquo.example/api", User = "admin", Password = "xabiquo" };

    private static IEnumerable<string> Failures(AbiquoOptions options, params string[] commandLine) =>
        new AbiquoOptionsValidator(() => commandLine).Validate(null, options).Failures ?? [];

    [Fact]
    public void CompleteOptions_AreValid() => Assert.Empty(Failures(Valid()));

    [Theory]
    [InlineData(null, "Abiquo:ApiUrl is required")]
    [InlineData("abiquo.example/api", "not an absolute http(s) URL")]
    [InlineData("https://admin:xabiquo@abiquo.example/api", "must not carry credentials")]
    [InlineData("https://abiquo.example/api?limit=0", "without a query")]
    public void BadApiUrl_SaysWhatToPut(string? url, string expected)
    {
        var options = Valid();
        options.ApiUrl = url;

        Assert.Contains(Failures(options), f => f.Contains(expected, StringComparison.Ordinal));
    }

    [Fact]
    public void NoPassword_AsksForAPasswordFile()
    {
        var options = Valid();
        options.Password = null;

        Assert.Contains(Failures(options), f => f.StartsWith("Abiquo:PasswordFile is required", StringComparison.Ordinal));
    }

    [Fact]
    public void PasswordAndFile_AreAskedToChooseOne()
    {
        var options = Valid();
        options.PasswordFile = "/etc/passwd";

        Assert.Contains(Failures(options), f => f.Contains("not both", StringComparison.Ordinal));
    }

    [Fact]
    public void MissingPasswordFile_IsNamed()
    {
        var options = Valid();
        (options.Password, options.PasswordFile) = (null, "/nonexistent/pw");

        Assert.Contains(Failures(options), f => f.Contains("'/nonexistent/pw' cannot be read", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("--Abiquo:Password=xabiquo")]
    [InlineData("--abiquo__password")]
    [InlineData("/Abiquo:Password")]
    public void PasswordOnTheCommandLine_IsRefused(string argument) =>
        Assert.Contains(Failures(Valid(), "vnc-relay", argument), f => f.Contains("visible", StringComparison.Ordinal) || f.Contains("ps shows", StringComparison.Ordinal));

    [Fact]
    public void PasswordFileOnTheCommandLine_IsFine()
    {
        var path = Path.GetTempFileName();
        try
        {
            File.WriteAllText(path, "xabiquo\n");
            var options = Valid();
            (options.Password, options.PasswordFile) = (null, path);

            Assert.Empty(Failures(options, "vnc-relay", "--Abiquo:PasswordFile=" + path));
            Assert.Equal("xabiquo", options.ResolvePassword());
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void CustomCaAndSkippingVerification_Contradict()
    {
        var options = Valid();
        (options.CaFile, options.InsecureSkipTlsVerify) = ("/etc/ssl/certs/ca-certificates.crt", true);

        Assert.Contains(Failures(options), f => f.Contains("contradict", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(1.5)]
    [InlineData(double.NaN)]
    public void RemovalShareOutOfRange_IsRefused(double share)
    {
        var options = Valid();
        options.MaxRemovalShare = share;

        Assert.Contains(Failures(options), f => f.StartsWith("Abiquo:MaxRemovalShare", StringComparison.Ordinal));
    }

    [Fact]
    public void BadVersionAndIntervals_AreRefused()
    {
        var options = Valid();
        (options.ApiVersion, options.SyncInterval, options.Timeout) = ("3.x", TimeSpan.Zero, TimeSpan.Zero);

        var failures = Failures(options).ToList();
        Assert.Contains(failures, f => f.StartsWith("Abiquo:ApiVersion", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.StartsWith("Abiquo:SyncInterval", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.StartsWith("Abiquo:Timeout", StringComparison.Ordinal));
    }

    [Fact]
    public void ToString_HidesThePassword()
    {
        var text = Valid().ToString();

        Assert.DoesNotContain("xabiquo", text, StringComparison.Ordinal);
        Assert.Contains("Password=***", text, StringComparison.Ordinal);
    }
}
