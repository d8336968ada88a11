namespace OrleansVncCluster.Tests;

public sealed class SmokeTests
{
    [Fact]
    public void Arithmetic_Works() => Assert.Equal(4, 2 + 2);
}
