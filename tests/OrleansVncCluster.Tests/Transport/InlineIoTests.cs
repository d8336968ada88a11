using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using OrleansVncCluster.Relay.Hosting;

namespace OrleansVncCluster.Tests.Transport;

/// <summary>Relay:InlineIo: on by default, off when asked, and a value that is neither refused with the key named.</summary>
public sealed class InlineIoTests
{
    [Fact]
    public void Default_TurnsInlineCompletionsOn_ForTheRuntimesSockets()
    {
        var builder = WebApplication.CreateBuilder();

        Assert.True(InlineIo.Apply(builder, NullLogger.Instance));
        Assert.Equal("1", Environment.GetEnvironmentVariable("DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS"));
    }

    [Fact]
    public void False_LeavesThemOff()
    {
        var builder = WebApplication.CreateBuilder();
        builder.Configuration.AddInMemoryCollection([new(InlineIo.Key, "false")]);

        Assert.False(InlineIo.Apply(builder, NullLogger.Instance));
    }

    [Fact]
    public void AValueThatIsNotABoolean_IsRefusedAtStartUp_NamingTheKey()
    {
        var builder = WebApplication.CreateBuilder();
        builder.Configuration.AddInMemoryCollection([new(InlineIo.Key, "yes please")]);

        var refused = Assert.Throws<OptionsValidationException>(() => InlineIo.Apply(builder, NullLogger.Instance));
        Assert.Contains("Relay:InlineIo is 'yes please'", refused.Message, StringComparison.Ordinal);
    }
}
