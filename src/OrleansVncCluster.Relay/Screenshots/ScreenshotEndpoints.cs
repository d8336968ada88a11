using System.Globalization;

namespace OrleansVncCluster.Relay.Screenshots;

/// <summary><c>GET /api/screenshot?token=T[&amp;width=W]</c>: a PNG of the console's screen. It carries no
/// authentication of its own: map it inside the admin surface, which does.</summary>
public static class ScreenshotEndpoints
{
    /// <summary>Narrowest thumbnail served.</summary>
    public const int MinWidth = 16;

    /// <summary>Maps the endpoint under <paramref name="endpoints"/> (the /api group).</summary>
    public static IEndpointConventionBuilder MapScreenshotEndpoints(this IEndpointRouteBuilder endpoints) =>
        endpoints.MapGet("/screenshot", async (HttpContext context, ScreenshotTaker taker) =>
        {
            var query = context.Request.Query;
            var token = query["token"].ToString();
            if (token.Length == 0)
            {
                return Results.Problem("Give the console's token: /api/screenshot?token=TOKEN[&width=W]", statusCode: StatusCodes.Status400BadRequest);
            }

            int? width = null;
            if (query.ContainsKey("width"))
            {
                if (!int.TryParse(query["width"], NumberStyles.None, CultureInfo.InvariantCulture, out var parsed) || parsed is < MinWidth or > ushort.MaxValue)
                {
                    return Results.Problem($"width must be a whole number of pixels from {MinWidth} to {ushort.MaxValue}", statusCode: StatusCodes.Status400BadRequest);
                }

                width = parsed;
            }

            var screenshot = await taker.TakeAsync(token, width, context.RequestAborted);
            if (screenshot.Png is null)
            {
                return Results.Problem(screenshot.Reason, statusCode: screenshot.Status);
            }

            // A screen is as sensitive as the console itself: never kept by a cache on the way.
            context.Response.Headers.CacheControl = "no-store";
            return Results.File(screenshot.Png, "image/png");
        });
}
