using Microsoft.AspNetCore;
using OpenIddict.Server;
using OpenIddict.Server.AspNetCore;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace AuthServer.Handlers;

/// <summary>The userinfo endpoint (OIDC Core §5.3), which OpenIddict answers up to our passthrough.</summary>
public static class UserinfoHandlers
{
    /// <summary>
    /// OIDC Core §5.3.3 / RFC 6750 §3: the error is in the challenge; it goes in a JSON body too, as at every other
    /// protocol endpoint, so a client that reads bodies (and a browser app, which may not see the header) learns it.
    /// </summary>
    public sealed class WriteErrorBody : IOpenIddictServerHandler<ApplyUserInfoResponseContext>
    {
        public static OpenIddictServerHandlerDescriptor Descriptor { get; } = OpenIddictServerHandlerDescriptor.CreateBuilder<ApplyUserInfoResponseContext>()
            .AddFilter<OpenIddictServerAspNetCoreHandlerFilters.RequireHttpRequest>()
            .UseSingletonHandler<WriteErrorBody>()
            .SetOrder(OpenIddictServerAspNetCoreHandlers.ProcessChallengeErrorResponse<ApplyUserInfoResponseContext>.Descriptor.Order - 1)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build();

        public async ValueTask HandleAsync(ApplyUserInfoResponseContext context)
        {
            if (context.Response.Error is not { } error) return;
            var response = context.Transaction.GetHttpRequest()!.HttpContext.Response;
            response.Headers.CacheControl = "no-store";
            await response.WriteAsJsonAsync(new Dictionary<string, string?>
            {
                ["error"] = error,
                ["error_description"] = context.Response.ErrorDescription,
            }, context.CancellationToken);
            context.HandleRequest();
        }
    }
}
