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
