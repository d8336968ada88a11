using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;
using OrleansVncCluster.Relay.Recording;
using OrleansVncCluster.Tests.Tickets;

namespace OrleansVncCluster.Tests.Recording;

/// <summary>What a playback request may name: a recording id that stays inside Recording:Directory, and a moment,
/// speed and pause the player knows.</summary>
public sealed class PlaybackInputsTests
{
    [Theory]
    [InlineData("../etc/passwd")]
    [InlineData("a/b")]
    [InlineData("..")]
    [InlineData("")]
    [InlineData(null)]
    [InlineData("rec id")]
    [InlineData("0123456789abcdef0123456789ABCDEF")]
    [InlineData("0123456789abcdef0123456789abcde/")]
    public void RecordingIdThatTheRecorderCouldNotHaveMade_NamesNoFile(string? id)
    {
        Assert.False(Recorder.IsRecordingId(id));
    }

    [Fact]
    public void RecordingIdOfTheRecorder_NamesAFile()
    {
        Assert.True(Recorder.IsRecordingId(Guid.NewGuid().ToString("N")));
    }

    [Fact]
    public void Request_ReadsMomentSpeedAndPause()
    {
        var request = PlaybackRequest.Parse(Query(("at", "817000"), ("speed", "16"), ("paused", "1")), out _);

        Assert.Equal(new PlaybackRequest(817_000, 16, true), request);
        Assert.Equal(new PlaybackRequest(0, 1, false), PlaybackRequest.Parse(Query(), out _));
    }

    [Theory]
    [InlineData("at", "-1", "at must")]
    [InlineData("at", "1e3", "at must")]
    [InlineData("speed", "3", "speed must")]
    [InlineData("speed", "32", "speed must")]
    [InlineData("paused", "yes", "paused must")]
    public void Request_RefusesWhatThePlayerDoesNotKnow_WithAReason(string name, string value, string reason)
    {
        Assert.Null(PlaybackRequest.Parse(Query((name, value)), out var why));
        Assert.StartsWith(reason, why, StringComparison.Ordinal);
    }

    private static QueryCollection Query(params (string Name, string Value)[] pairs) =>
        new(pairs.ToDictionary(p => p.Name, p => new StringValues(p.Value)));
}
