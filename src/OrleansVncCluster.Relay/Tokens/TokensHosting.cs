using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace OrleansVncCluster.Relay.Tokens;

/// <summary>Registers the console token model's services: its options, the token table and the per-node resolver.</summary>
public static class TokensHosting
{
    /// <summary>Adds <see cref="TokenOptions"/> (section "Tokens", validated at start-up), <see cref="TokenTable"/>, <see cref="StoredTokens"/> and <see cref="TokenResolver"/>.</summary>
    public static IServiceCollection AddConsoleTokens(this IServiceCollection services)
    {
        services.AddOptions<TokenOptions>().BindConfiguration(TokenOptions.Section).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<TokenOptions>, TokenOptionsValidator>());
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<TokenTable>();
        services.TryAddSingleton<StoredTokens>();
        services.TryAddSingleton<TokenResolver>();
        return services;
    }
}
