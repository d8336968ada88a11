using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;
using OrleansVncCluster.Relay.Audit;

namespace OrleansVncCluster.Tests.Audit;

/// <summary>The query string of GET /api/history: what it accepts, and a message naming the parameter for what it does not.</summary>
public sealed class AuditQueryTests
{
    [Fact]
    public void NoParameters_AsksForTheNewest100()
    {
        var query = Parse("");

        Assert.Equal(new AuditQuery { Limit = 100 }, query);
    }

    [Fact]
    public void EveryFilter_IsRead_TimesInUtc_ClientInCanonicalForm()
    {
        var query = Parse("vm=42&user=alice&client=::ffff:127.0.0.2&since=2026-01-31T08:00:00%2B01:00&until=2026-02-01&limit=1000");

        Assert.NotNull(query);
        Assert.Equal("42", query.Vm);
        Assert.Equal("alice", query.User);
        Assert.Equal("::ffff:127.0.0.2", query.Client);
        Assert.Equal(new DateTimeOffset(2026, 1, 31, 7, 0, 0, TimeSpan.Zero), query.Since);
        Assert.Equal(TimeSpan.Zero, query.Since!.Value.Offset);
        Assert.Equal(new DateTimeOffset(2026, 2, 1, 0, 0, 0, TimeSpan.Zero), query.Until);
        Assert.Equal(1000, query.Limit);
    }

    [Theory]
    [InlineData("limit=0", "limit")]
    [InlineData("limit=1001", "limit")]
    [InlineData("limit=ten", "limit")]
    [InlineData("limit=-5", "limit")]
    [InlineData("since=yesterday", "since")]
    [InlineData("until=12345", "until")]
    [InlineData("since=2026-02-02T00:00:00Z&until=2026-02-01T00:00:00Z", "since")]
    [InlineData("client=not-an-address", "client")]
    [InlineData("vm=", "vm")]
    [InlineData("user=", "user")]
    [InlineData("vmm=42", "vmm")]
    [InlineData("vm=1&vm=2", "vm")]
    public void BadParameter_IsRefused_WithAMessageNamingIt(string text, string parameter)
    {
        var query = AuditQuery.Parse(QueryOf(text), out var error);

        Assert.Null(query);
        Assert.NotNull(error);
        Assert.StartsWith(parameter, error.Replace("unknown parameter '", "", StringComparison.Ordinal), StringComparison.Ordinal);
    }

    [Fact]
    public void OverlongValue_IsRefused_AndNotEchoedWhole()
    {
        var query = AuditQuery.Parse(QueryOf("client=" + new string('x', 5000)), out var error);

        Assert.Null(query);
        Assert.True(error!.Length < 200, error);
    }

    [Fact]
    public void Record_MatchesItsVmByIdOrName_AndItsStartWithinTheBounds()
    {
        var record = new AuditRecord
        {
            Id = "a", Vm = new AuditVm { Id = "42", Name = "web-1" }, Client = "127.0.0.2", Node = "n1", Role = "control",
            Start = new DateTimeOffset(2026, 1, 1, 12, 0, 0, TimeSpan.Zero),
        };

        Assert.True(record.Matches(new AuditQuery { Vm = "42" }));
        Assert.True(record.Matches(new AuditQuery { Vm = "web-1" }));
        Assert.False(record.Matches(new AuditQuery { Vm = "43" }));
        Assert.False(record.Matches(new AuditQuery { User = "alice" }));
        Assert.True(record.Matches(new AuditQuery { Since = record.Start, Until = record.Start }));
        Assert.False(record.Matches(new AuditQuery { Since = record.Start.AddTicks(1) }));
        Assert.False(record.Matches(new AuditQuery { Until = record.Start.AddTicks(-1) }));
    }

    private static AuditQuery? Parse(string text)
    {
        var query = AuditQuery.Parse(QueryOf(text), out var error);
        Assert.True(query is not null, error);
        return query;
    }

    private static QueryCollection QueryOf(string text) => new(Microsoft.AspNetCore.WebUtilities.QueryHelpers.ParseQuery(text));
}
