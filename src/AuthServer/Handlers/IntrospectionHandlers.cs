using Microsoft.AspNetCore;
using OpenIddict.Abstractions;
using OpenIddict.Server;
using OpenIddict.Server.AspNetCore;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace AuthServer.Handlers;

/// <summary>Token introspection (RFC 7662), which OpenIddict answers.</summary>
public static class IntrospectionHandlers
{
    /// <summary>
    /// RFC 7662 §2.2: the token's own claims a resource server needs: the linked device it was issued to, and, for a
    /// DPoP-bound token, the key's thumbprint (RFC 9449 §6.2), which OpenIddict only reports for certificate binding.
    /// </summary>
    public sealed class AttachOurClaims : IOpenIddictServerHandler<HandleIntrospectionRequestContext>
    {
        public static OpenIddictServerHandlerDescriptor Descriptor { get; } = OpenIddictServerHandlerDescriptor.CreateBuilder<HandleIntrospectionRequestContext>()
            .UseSingletonHandler<AttachOurClaims>()
            .SetOrder(OpenIddictServerHandlers.Introspection.AttachApplicationClaims.Descriptor.Order + 1_000)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build();

        public ValueTask HandleAsync(HandleIntrospectionRequestContext context)
        {
            if (context.GenericTokenPrincipal is not { } principal) return ValueTask.CompletedTask;
            if ((principal.GetClaim(Tokens.TokenClaims.DeviceId) ?? principal.GetAuthorizationId()) is { } deviceId)
                context.Claims[Tokens.TokenClaims.DeviceId] = deviceId;
            var cnf = principal.GetClaim(Tokens.TokenClaims.Confirmation);
            if (cnf is not null)
                context.Claims[Tokens.TokenClaims.Confirmation] = System.Text.Json.JsonDocument.Parse(cnf).RootElement.Clone();
            // RFC 7662 §2.2 token_type: how the access token is presented (RFC 9449 §7.1 for a bound one).
            if (principal.HasTokenType(OpenIddictConstants.TokenTypeIdentifiers.AccessToken))
                context.Claims[OpenIddictConstants.Claims.TokenType] = cnf is null ? "Bearer" : "DPoP";
            // OpenIddict names the scope of access tokens only; a refresh token's grant has one too.
            if (context.Scopes.Count == 0) context.Scopes.UnionWith(principal.GetScopes());
            return ValueTask.CompletedTask;
        }
    }

    /// <summary>
    /// RFC 7662 §2.2: a token that is not active, unknown, or not this caller's to know about is answered
    /// <c>{"active": false}</c>, never an error that would tell such tokens apart. OpenIddict refuses some of them (an
    /// ID token, say) with <c>unsupported_token_type</c> or <c>invalid_token</c>.
    /// </summary>
    public sealed class InactiveRatherThanRefused : IOpenIddictServerHandler<ApplyIntrospectionResponseContext>
    {
        public static OpenIddictServerHandlerDescriptor Descriptor { get; } = OpenIddictServerHandlerDescriptor.CreateBuilder<ApplyIntrospectionResponseContext>()
            .UseSingletonHandler<InactiveRatherThanRefused>()
            .SetOrder(int.MinValue + 50_000)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build();

        public ValueTask HandleAsync(ApplyIntrospectionResponseContext context)
        {
            if (context.Response.Error is OpenIddictConstants.Errors.UnsupportedTokenType or OpenIddictConstants.Errors.InvalidToken)
                context.Transaction.Response = new OpenIddictResponse { [OpenIddictConstants.Parameters.Active] = false };
            return ValueTask.CompletedTask;
        }
    }

    /// <summary>RFC 7662 §4: an introspection answer describes a live token and must not be kept by any cache.</summary>
    public sealed class NoStore : IOpenIddictServerHandler<ApplyIntrospectionResponseContext>
    {
        public static OpenIddictServerHandlerDescriptor Descriptor { get; } = OpenIddictServerHandlerDescriptor.CreateBuilder<ApplyIntrospectionResponseContext>()
            .AddFilter<OpenIddictServerAspNetCoreHandlerFilters.RequireHttpRequest>()
            .UseSingletonHandler<NoStore>()
            .SetOrder(int.MinValue + 100_000)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build();

        public ValueTask HandleAsync(ApplyIntrospectionResponseContext context)
        {
            context.Transaction.GetHttpRequest()!.HttpContext.Response.Headers.CacheControl = "no-store";
            return ValueTask.CompletedTask;
        }
    }
}
