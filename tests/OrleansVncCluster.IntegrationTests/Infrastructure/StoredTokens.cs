using StackExchange.Redis;

namespace OrleansVncCluster.IntegrationTests.Infrastructure;

/// <summary>
/// What Redis itself holds of a cluster's tokens, read straight from one redis-server (never through a node, whose cache
/// or active grains could answer for a key that is gone). Grain state keys are <c>{ServiceId}/state/{grainId}/{grainType}</c>
/// and a token grain's id carries the token, so a token is stored when some state key of the service names it.
/// </summary>
public static class StoredTokens
{
    /// <summary>Those of <paramref name="tokens"/> that have a grain state key in the one Redis server <paramref name="endpoint"/> names ("host:port", with ",password=..." if it has one).</summary>
    public static async Task<IReadOnlyList<string>> PresentAsync(string endpoint, string serviceId, IEnumerable<string> tokens)
    {
        var keys = await KeysAsync(endpoint, $"{serviceId}/state/*");
        return [.. tokens.Where(token => keys.Any(key => key.Contains(token, StringComparison.Ordinal)))];
    }

    /// <summary>Every key matching <paramref name="pattern"/> in the one Redis server <paramref name="endpoint"/> names.</summary>
    public static async Task<IReadOnlyList<string>> KeysAsync(string endpoint, string pattern)
    {
        var options = ConfigurationOptions.Parse(endpoint);
        options.AbortOnConnectFail = true;
        options.ConnectTimeout = 5000;
        await using var redis = await ConnectionMultiplexer.ConnectAsync(options);
        var keys = new List<string>();
        await foreach (var key in redis.GetServer(redis.GetEndPoints().Single()).KeysAsync(pattern: pattern, pageSize: 1000))
        {
            keys.Add(key.ToString());
        }

        return keys;
    }
}
