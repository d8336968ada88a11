using OrleansVncCluster.Relay.Sources;

namespace OrleansVncCluster.Tests.Sources;

public sealed class TokenPasswordFileTests
{
    [Fact]
    public void PasswordLines_AreReadPerToken_AndABadLineIsReportedWithoutItsText()
    {
        var path = Path.Combine(Path.GetTempPath(), "vnc-passwords-" + Guid.NewGuid().ToString("N"));
        File.WriteAllLines(path, ["# comment", "", "vm1: s3cret:with:colons ", "vm2:pw2", "no-password-here"]);
        try
        {
            var (passwords, errors) = TokenPasswordFile.Load([path]);

            Assert.Equal("s3cret:with:colons", passwords["vm1"]);
            Assert.Equal("pw2", passwords["vm2"]);
            var error = Assert.Single(errors);
            Assert.Equal(5, error.Line);
            Assert.DoesNotContain("no-password-here", error.Message, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
