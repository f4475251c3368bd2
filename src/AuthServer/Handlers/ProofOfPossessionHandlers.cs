using Microsoft.AspNetCore;
using OpenIddict.Server;
using OpenIddict.Server.AspNetCore;
using OpenIddict.Validation;
using OpenIddict.Validation.AspNetCore;

namespace AuthServer.Handlers;

/// <summary>
/// OpenIddict binds tokens only to TLS client certificates (RFC 8705), and refuses a token whose <c>cnf</c> names
/// anything else (a DPoP <c>jkt</c>). We bind with DPoP (RFC 9449) and check the binding ourselves, where the proof is
/// (the token endpoint, <see cref="Tokens.AccessTokenAuthentication"/>), so OpenIddict's check is switched off in both
/// stacks. No client is registered for certificate binding, so nothing else relies on it.
/// </summary>
public static class ProofOfPossessionHandlers
{
    public sealed class ServerLeavesBindingToUs : IOpenIddictServerHandler<OpenIddictServerEvents.ValidateTokenContext>
    {
        public static OpenIddictServerHandlerDescriptor Descriptor { get; } = OpenIddictServerHandlerDescriptor.CreateBuilder<OpenIddictServerEvents.ValidateTokenContext>()
            .UseSingletonHandler<ServerLeavesBindingToUs>()
            .SetOrder(OpenIddictServerHandlers.Protection.ValidateProofOfPossession.Descriptor.Order - 1)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build();

        public ValueTask HandleAsync(OpenIddictServerEvents.ValidateTokenContext context)
        {
            context.DisableProofOfPossessionValidation = true;
            return ValueTask.CompletedTask;
        }
    }

    public sealed class ValidationLeavesBindingToUs : IOpenIddictValidationHandler<OpenIddictValidationEvents.ValidateTokenContext>
    {
        public static OpenIddictValidationHandlerDescriptor Descriptor { get; } = OpenIddictValidationHandlerDescriptor.CreateBuilder<OpenIddictValidationEvents.ValidateTokenContext>()
            .UseSingletonHandler<ValidationLeavesBindingToUs>()
            .SetOrder(OpenIddictValidationHandlers.Protection.ValidateProofOfPossession.Descriptor.Order - 1)
            .SetType(OpenIddictValidationHandlerType.Custom)
            .Build();

        public ValueTask HandleAsync(OpenIddictValidationEvents.ValidateTokenContext context)
        {
            context.DisableProofOfPossessionValidation = true;
            return ValueTask.CompletedTask;
        }
    }

    /// <summary>RFC 9449 §7.1: a DPoP-bound token comes as <c>Authorization: DPoP &lt;token&gt;</c>, which OpenIddict does not read.</summary>
    public static string? DpopSchemeToken(HttpRequest request)
    {
        var header = request.Headers.Authorization.ToString();
        return header.StartsWith("DPoP ", StringComparison.OrdinalIgnoreCase) ? header[5..].Trim() : null;
    }

    public sealed class ValidationReadsDpopScheme : IOpenIddictValidationHandler<OpenIddictValidationEvents.ProcessAuthenticationContext>
    {
        public static OpenIddictValidationHandlerDescriptor Descriptor { get; } = OpenIddictValidationHandlerDescriptor.CreateBuilder<OpenIddictValidationEvents.ProcessAuthenticationContext>()
            .UseSingletonHandler<ValidationReadsDpopScheme>()
            .SetOrder(OpenIddictValidationAspNetCoreHandlers.ExtractAccessTokenFromAuthorizationHeader.Descriptor.Order + 1)
            .SetType(OpenIddictValidationHandlerType.Custom)
            .Build();

        public ValueTask HandleAsync(OpenIddictValidationEvents.ProcessAuthenticationContext context)
        {
            if (string.IsNullOrEmpty(context.AccessToken) && context.Transaction.GetHttpRequest() is { } http)
                context.AccessToken = DpopSchemeToken(http);
            return ValueTask.CompletedTask;
        }
    }

    public sealed class UserinfoReadsDpopScheme : IOpenIddictServerHandler<OpenIddictServerEvents.ExtractUserInfoRequestContext>
    {
        public static OpenIddictServerHandlerDescriptor Descriptor { get; } = OpenIddictServerHandlerDescriptor.CreateBuilder<OpenIddictServerEvents.ExtractUserInfoRequestContext>()
            .UseSingletonHandler<UserinfoReadsDpopScheme>()
            .SetOrder(int.MaxValue - 100_000)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build();

        public ValueTask HandleAsync(OpenIddictServerEvents.ExtractUserInfoRequestContext context)
        {
            if (context.Request is { AccessToken: null } request && context.Transaction.GetHttpRequest() is { } http)
                request.AccessToken = DpopSchemeToken(http);
            return ValueTask.CompletedTask;
        }
    }
}
