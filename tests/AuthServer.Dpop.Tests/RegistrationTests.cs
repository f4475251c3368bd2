using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace AuthServer.Dpop.Tests;

/// <summary><c>AddDpopProofValidation</c>: settings that could not work stop the host, with a sentence saying which.</summary>
public sealed class RegistrationTests
{
    private static OptionsValidationException Invalid(Action<DpopOptions> configure)
    {
        var services = new ServiceCollection();
        services.AddDpopProofValidation().Configure(configure);
        using var provider = services.BuildServiceProvider();
        return Should.Throw<OptionsValidationException>(() => provider.GetRequiredService<IOptions<DpopOptions>>().Value);
    }

    [Fact]
    public void A_replay_cache_of_no_size_is_refused()
    {
        Invalid(o => o.ReplayCacheSize = 0).Failures.ShouldBe(["The DPoP replay cache size must be at least 1."]);
    }

    [Fact]
    public void A_proof_lifetime_that_is_not_positive_is_refused()
    {
        Invalid(o => o.ProofLifetime = TimeSpan.Zero).Failures.ShouldBe(["The DPoP proof lifetime must be positive."]);
    }

    [Fact]
    public void An_algorithm_the_validator_cannot_check_is_refused()
    {
        Invalid(o => o.Algorithms = ["ES256", "HS256"]).Failures.ShouldHaveSingleItem().ShouldStartWith("The DPoP algorithms may only be ES256, ES384, RS256, PS256");
    }

    [Fact]
    public void The_defaults_are_valid_and_a_host_can_bring_its_own_request_uri()
    {
        var services = new ServiceCollection();
        services.AddSingleton<IDpopRequestUri, FixedUri>();
        services.AddDpopProofValidation();
        using var provider = services.BuildServiceProvider();

        provider.GetRequiredService<DpopProofValidator>().AcceptedAlgorithms.ShouldBe(DpopProofValidator.Algorithms);
        provider.GetRequiredService<IDpopRequestUri>().ShouldBeOfType<FixedUri>();
        provider.GetRequiredService<IOptions<DpopOptions>>().Value.RequireNonce.ShouldBeTrue();
    }

    private sealed class FixedUri : IDpopRequestUri
    {
        public string For(Microsoft.AspNetCore.Http.HttpRequest request) => "https://fixed.example.com/";
    }
}
