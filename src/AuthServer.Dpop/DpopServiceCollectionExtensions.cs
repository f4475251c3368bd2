using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace AuthServer.Dpop;

public static class DpopServiceCollectionExtensions
{
    /// <summary>
    /// Registers <see cref="DpopProofValidator"/> and what it needs, as singletons. A host that knows better registers
    /// its own <see cref="IDpopRequestUri"/> (the default is the request's own URI) and <see cref="IDpopNonceKeySource"/>
    /// (the default is a key of this process), and <see cref="IDpopReplayStore"/> (the default remembers proofs in
    /// this process). Returns the options builder, to bind or configure <see cref="DpopOptions"/>.
    /// </summary>
    public static OptionsBuilder<DpopOptions> AddDpopProofValidation(this IServiceCollection services)
    {
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<IDpopRequestUri, RequestDpopUri>();
        services.TryAddSingleton(provider => new DpopNonces(
            provider.GetRequiredService<TimeProvider>(), provider.GetService<IDpopNonceKeySource>()));
        services.TryAddSingleton<DpopReplayCache>();
        services.TryAddSingleton<IDpopReplayStore>(provider => provider.GetRequiredService<DpopReplayCache>());
        services.TryAddSingleton<DpopProofValidator>();
        return services.AddOptions<DpopOptions>()
            .Validate(o => o.ProofLifetime > TimeSpan.Zero, "The DPoP proof lifetime must be positive.")
            .Validate(o => o.ReplayCacheSize > 0, "The DPoP replay cache size must be at least 1.")
            .Validate(o => o.Algorithms is null || o.Algorithms.All(DpopProofValidator.Algorithms.Contains),
                $"The DPoP algorithms may only be {string.Join(", ", DpopProofValidator.Algorithms)}.")
            .ValidateOnStart();
    }
}
