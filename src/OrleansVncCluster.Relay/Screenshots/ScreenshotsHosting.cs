using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace OrleansVncCluster.Relay.Screenshots;

/// <summary>Registers screenshots: <see cref="ScreenshotOptions"/> (section "Screenshots", validated at start-up) and
/// the one <see cref="ScreenshotTaker"/> of the node.</summary>
public static class ScreenshotsHosting
{
    /// <summary>Adds the options and the taker.</summary>
    public static IServiceCollection AddRelayScreenshots(this IServiceCollection services)
    {
        services.AddOptions<ScreenshotOptions>().BindConfiguration(ScreenshotOptions.Section).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<ScreenshotOptions>, ScreenshotOptionsValidator>());
        services.TryAddSingleton<ScreenshotTaker>();
        return services;
    }
}
