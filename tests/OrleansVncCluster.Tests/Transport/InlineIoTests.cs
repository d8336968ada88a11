using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using OrleansVncCluster.Relay.Hosting;

namespace OrleansVncCluster.Tests.Transport;

/// <summary>
/// Relay:InlineIo: on by default, off when asked, and a value that is neither refused with the key named. The runtime's
/// variable goes to a dictionary, not to this process: set here, it would make every socket of the test run complete
/// inline, whatever the other tests expect.
/// </summary>
public sealed class InlineIoTests
{
    private readonly Dictionary<string, string> _environment = new(StringComparer.Ordinal);

    private bool Apply(WebApplicationBuilder builder) =>
        InlineIo.Apply(builder, NullLogger.Instance, name => _environment.GetValueOrDefault(name), (name, value) => _environment[name] = value);

    [Fact]
    public void Default_TurnsInlineCompletionsOn_ForTheRuntimesSockets()
    {
        var builder = WebApplication.CreateBuilder();

        Assert.True(Apply(builder));
        Assert.Equal("1", _environment.GetValueOrDefault("DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS"));
    }

    [Fact]
    public void False_LeavesThemOff()
    {
        var builder = WebApplication.CreateBuilder();
        builder.Configuration.AddInMemoryCollection([new(InlineIo.Key, "false")]);

        Assert.False(Apply(builder));
        Assert.Empty(_environment);
    }

    [Fact]
    public void AValueThatIsNotABoolean_IsRefusedAtStartUp_NamingTheKey()
    {
        var builder = WebApplication.CreateBuilder();
        builder.Configuration.AddInMemoryCollection([new(InlineIo.Key, "yes please")]);

        var refused = Assert.Throws<OptionsValidationException>(() => Apply(builder));
        Assert.Contains("Relay:InlineIo is 'yes please'", refused.Message, StringComparison.Ordinal);
    }
}
