using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.DependencyInjection;
using OrleansVncCluster.Relay.Sessions;

namespace OrleansVncCluster.Tests.Sessions;

public sealed class SessionsHostingTests
{
    [Fact]
    public void KestrelReadsIntoLargeBlocks_EvenThoughTheWebHostRegisteredItsOwnPoolFirst()
    {
        // The order of a real node: the web host (and with it Kestrel's default 4 KiB-block pool) comes first.
        var builder = WebApplication.CreateSlimBuilder();
        builder.Services.AddRelaySessions();

        using var services = builder.Services.BuildServiceProvider();

        Assert.IsType<LargeBlockMemoryPoolFactory>(services.GetRequiredService<IMemoryPoolFactory<byte>>());
    }
}
