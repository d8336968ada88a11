using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.Options;
using OrleansVncCluster.Relay.Recording;

namespace OrleansVncCluster.Relay.ConsolePage;

/// <summary>
/// Serves the browser console: <c>GET /console</c> (the page, wwwroot/console/index.html), its files under
/// <c>/console/</c>, and the noVNC library under <c>/novnc/</c> (wwwroot/novnc, bundled at build time from the npm
/// package pinned in web/package-lock.json). Every node serves the same files, so the page works through HAProxy and
/// connects back to the origin it came from.
/// </summary>
public static class ConsolePageHosting
{
    /// <summary>The page's path; its own files live below it.</summary>
    public const string PagePath = "/console";

    /// <summary>Where the noVNC library is served.</summary>
    public const string NoVncPath = "/novnc";

    private const string IndexFile = "console/index.html";
    private const string PlaybackPath = PagePath + "/playback";
    private const string PlaybackFile = "console/playback.html";

    /// <summary>Binds and validates <see cref="ConsoleOptions"/> from the "Console" configuration section.</summary>
    public static IServiceCollection AddConsolePage(this IServiceCollection services)
    {
        services.AddOptions<ConsoleOptions>().BindConfiguration(ConsoleOptions.Section).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<ConsoleOptions>, ConsoleOptionsValidator>());
        services.TryAddSingleton<ShareLinks>();
        return services;
    }

    /// <summary>Maps the page's share call below the relay path (Relay:Path), next to its presence call (<see cref="ShareLinks"/>).</summary>
    public static IEndpointConventionBuilder MapConsoleShare(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        var path = endpoints.ServiceProvider.GetRequiredService<IOptions<Sessions.RelayOptions>>().Value.Path;
        return endpoints.MapPost(path.TrimEnd('/') + ShareLinks.ShareSuffix, (HttpContext context, ShareLinks share) => share.ShareAsync(context));
    }

    /// <summary>
    /// Maps the console page and its static files. Without <see cref="AddConsolePage"/> the defaults apply (framing by the
    /// node's own origin only).
    /// </summary>
    public static IApplicationBuilder UseConsolePage(this IApplicationBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);
        var services = app.ApplicationServices;
        var headers = new ConsoleHeaders(services.GetRequiredService<IOptions<ConsoleOptions>>().Value);
        var files = ResolveFiles(services);
        var staticFiles = new StaticFileOptions { FileProvider = files };

        app.MapWhen(context => IsConsolePath(context.Request.Path), branch =>
        {
            branch.Use((context, next) =>
            {
                headers.Apply(context);
                var path = context.Request.Path.Value!;
                if (path.TrimEnd('/').Equals(PagePath, StringComparison.OrdinalIgnoreCase))
                {
                    context.Request.Path = "/" + IndexFile;
                }
                else if (path.TrimEnd('/').Equals(PlaybackPath, StringComparison.OrdinalIgnoreCase))
                {
                    context.Request.Path = "/" + PlaybackFile;
                }

                return next(context);
            });
            branch.UseStaticFiles(staticFiles);
            branch.Run(context => NotFoundAsync(context, files));
        });
        return app;
    }

    internal static bool IsConsolePath(PathString path) =>
        !path.Equals(PlaybackHosting.InfoPath, StringComparison.OrdinalIgnoreCase) && (path.Equals(PagePath, StringComparison.OrdinalIgnoreCase)
        || path.StartsWithSegments(PagePath, StringComparison.OrdinalIgnoreCase)
        || path.StartsWithSegments(NoVncPath, StringComparison.OrdinalIgnoreCase));

    /// <summary>
    /// The host's web root is content-root/wwwroot; a node started from another working directory has its content root
    /// there, so fall back to the wwwroot published next to the executable.
    /// </summary>
    private static IFileProvider ResolveFiles(IServiceProvider services)
    {
        var environment = services.GetRequiredService<IWebHostEnvironment>();
        if (environment.WebRootFileProvider.GetFileInfo(IndexFile).Exists)
        {
            return environment.WebRootFileProvider;
        }

        var besideExecutable = Path.Combine(AppContext.BaseDirectory, "wwwroot");
        if (!File.Exists(Path.Combine(besideExecutable, IndexFile)))
        {
            return environment.WebRootFileProvider;
        }

        var provider = new PhysicalFileProvider(besideExecutable);
        services.GetService<IHostApplicationLifetime>()?.ApplicationStopped.Register(provider.Dispose);
        return provider;
    }

    private static Task NotFoundAsync(HttpContext context, IFileProvider files)
    {
        var method = context.Request.Method;
        if (!HttpMethods.IsGet(method) && !HttpMethods.IsHead(method))
        {
            context.Response.StatusCode = StatusCodes.Status405MethodNotAllowed;
            context.Response.Headers.Allow = "GET, HEAD";
            return Task.CompletedTask;
        }

        context.Response.StatusCode = StatusCodes.Status404NotFound;
        context.Response.ContentType = "text/plain; charset=utf-8";
        var message = files.GetFileInfo(IndexFile).Exists
            ? "not found\n"
            : "The console page is not installed on this node: wwwroot/console is missing next to vnc-relay (publish the node with `make build`).\n";
        return context.Response.WriteAsync(message);
    }
}
