using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace OrleansVncCluster.AbiquoSimulator.Api;

/// <summary>Writes a wire object as JSON with an Abiquo media type, streaming (a 100k-VM list is tens of megabytes).</summary>
public sealed class WireJsonResult<T>(T value, JsonTypeInfo<T> typeInfo, string contentType, int statusCode = StatusCodes.Status200OK) : IResult
{
    public async Task ExecuteAsync(HttpContext httpContext)
    {
        httpContext.Response.StatusCode = statusCode;
        httpContext.Response.ContentType = contentType;
        await JsonSerializer.SerializeAsync(httpContext.Response.Body, value, typeInfo, httpContext.RequestAborted);
    }
}

/// <summary>The answers the simulator gives besides data: errors, as Abiquo shapes them.</summary>
public static class WireResults
{
    /// <summary>Realm of the Basic challenge (3.x; 2.x said <c>realm="Abiquo"</c>).</summary>
    public const string Realm = "Basic realm=\"Abiquo API\"";

    /// <summary>An <c>errors</c> collection with one error.</summary>
    public static IResult Error(int status, string code, string message, string version) =>
        new WireJsonResult<CollectionJson<ErrorJson>>(
            new CollectionJson<ErrorJson>(null, [], [new ErrorJson(code, message, [])]),
            WireJsonContext.Relaxed.CollectionJsonErrorJson,
            MediaTypes.For("errors", version),
            status);

    /// <summary>The 401 Abiquo sends when a request has no credentials: a challenge and an HTML page.</summary>
    public static IResult Challenge() => new ChallengeResult();

    /// <summary>An HTML page with <paramref name="status"/>, as a proxy or servlet container in front of the API sends it.</summary>
    public static IResult Html(int status, string title) =>
        Results.Content($"<html><head><title>Error {status}</title></head><body><h1>HTTP Status {status} - {title}</h1></body></html>",
            "text/html; charset=utf-8", Encoding.UTF8, status);

    private sealed class ChallengeResult : IResult
    {
        public Task ExecuteAsync(HttpContext httpContext)
        {
            httpContext.Response.Headers.WWWAuthenticate = Realm;
            return Html(StatusCodes.Status401Unauthorized, "Full authentication is required to access this resource").ExecuteAsync(httpContext);
        }
    }
}
