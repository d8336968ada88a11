using Microsoft.AspNetCore.Http.Features;

namespace OrleansVncCluster.Relay.Sessions;

/// <summary>
/// Kestrel's upgrade of a console request, handing the WebSocket a <see cref="BrowserFrameStream"/> over the upgraded
/// connection instead of the connection itself, so that the forwarder can write frames in place beside it
/// (<c>Relay:InPlaceFrames</c>). Set on the request ahead of ASP.NET Core's WebSocket middleware, which takes the
/// upgrade feature it finds when the request arrives.
/// </summary>
internal sealed class InPlaceFramesUpgrade(IHttpUpgradeFeature kestrel) : IHttpUpgradeFeature
{
    /// <summary>The browser's connection once upgraded; null before, or for a request upgraded another way (HTTP/2).</summary>
    public BrowserFrameStream? Frames { get; private set; }

    public bool IsUpgradableRequest => kestrel.IsUpgradableRequest;

    public async Task<Stream> UpgradeAsync() => Frames = new BrowserFrameStream(await kestrel.UpgradeAsync());

    /// <summary>The in-place writer of an accepted console request, if it has one.</summary>
    public static BrowserFrameStream? Of(HttpContext context) => (context.Features.Get<IHttpUpgradeFeature>() as InPlaceFramesUpgrade)?.Frames;
}
