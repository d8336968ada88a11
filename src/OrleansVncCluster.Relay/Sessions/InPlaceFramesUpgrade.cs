using System.IO.Pipelines;
using Microsoft.AspNetCore.Http.Features;

namespace OrleansVncCluster.Relay.Sessions;

/// <summary>
/// Kestrel's upgrade of a console request, handing the WebSocket a <see cref="BrowserFrameStream"/> over the upgraded
/// connection instead of the connection itself, so that the forwarder can write frames in place beside it
/// (<c>Relay:InPlaceFrames</c>). Set on the request ahead of ASP.NET Core's WebSocket middleware, which takes the
/// upgrade feature it finds when the request arrives.
/// </summary>
/// <param name="kestrel">Kestrel's own upgrade.</param>
/// <param name="connection">The HTTP/1.1 connection the request came on, as Kestrel's HTTP layer reads and writes it
/// (inside TLS when the listener has a certificate). Once the request is upgraded, that layer writes to it only what
/// the upgraded stream is given, so frames put straight into its output under the same lock keep their order.</param>
internal sealed class InPlaceFramesUpgrade(IHttpUpgradeFeature kestrel, IDuplexPipe connection) : IHttpUpgradeFeature
{
    /// <summary>The browser's connection once upgraded; null before, or for a request upgraded another way (HTTP/2).</summary>
    public BrowserFrameStream? Frames { get; private set; }

    public bool IsUpgradableRequest => kestrel.IsUpgradableRequest;

    public async Task<Stream> UpgradeAsync() => Frames = new BrowserFrameStream(await kestrel.UpgradeAsync(), connection.Output);

    /// <summary>The in-place writer of an accepted console request, if it has one.</summary>
    public static BrowserFrameStream? Of(HttpContext context) => (context.Features.Get<IHttpUpgradeFeature>() as InPlaceFramesUpgrade)?.Frames;
}
