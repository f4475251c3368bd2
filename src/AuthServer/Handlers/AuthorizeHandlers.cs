using Microsoft.AspNetCore;
using AuthServer.Clients;
using Microsoft.AspNetCore.WebUtilities;
using OpenIddict.Server;
using OpenIddict.Server.AspNetCore;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace AuthServer.Handlers;

/// <summary>Our rules at the authorization endpoint (RFC 6749 §4.1, OIDC Core §3.1.2).</summary>
public static class AuthorizeHandlers
{
    public const string ErrorPage = "/authorize/error";

    /// <summary>RFC 6749 §3.3: without a <c>scope</c> parameter, the client's registered scopes are the documented default.</summary>
    public sealed class ApplyDefaultScopes(ClientStore clients) : IOpenIddictServerHandler<ExtractAuthorizationRequestContext>
    {
        public static OpenIddictServerHandlerDescriptor Descriptor { get; } = OpenIddictServerHandlerDescriptor.CreateBuilder<ExtractAuthorizationRequestContext>()
            .UseSingletonHandler<ApplyDefaultScopes>()
            .SetOrder(int.MaxValue - 100_000)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build();

        public ValueTask HandleAsync(ExtractAuthorizationRequestContext context)
        {
            if (context.Request is { } request && string.IsNullOrWhiteSpace(request.Scope) && clients.Find(request.ClientId) is { } client)
                request.Scope = string.Join(' ', client.Scopes);
            return ValueTask.CompletedTask;
        }
    }

    /// <summary>
    /// An error that cannot go back to the client (unknown client, unregistered redirect URI: RFC 6749 §4.1.2.1 forbids
    /// redirecting then) is shown to the user on a friendly page instead of OpenIddict's plain-text answer.
    /// </summary>
    public sealed class ShowLocalErrorsOnPage : IOpenIddictServerHandler<ApplyAuthorizationResponseContext>
    {
        public static OpenIddictServerHandlerDescriptor Descriptor { get; } = OpenIddictServerHandlerDescriptor.CreateBuilder<ApplyAuthorizationResponseContext>()
            .AddFilter<OpenIddictServerAspNetCoreHandlerFilters.RequireHttpRequest>()
            .UseSingletonHandler<ShowLocalErrorsOnPage>()
            .SetOrder(OpenIddictServerAspNetCoreHandlers.ProcessLocalErrorResponse<ApplyAuthorizationResponseContext>.Descriptor.Order - 1)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build();

        public ValueTask HandleAsync(ApplyAuthorizationResponseContext context)
        {
            if (context.Response.Error is not { } error || !string.IsNullOrEmpty(context.RedirectUri)) return ValueTask.CompletedTask;
            var http = context.Transaction.GetHttpRequest()!.HttpContext;
            http.Response.Redirect(QueryHelpers.AddQueryString(ErrorPage, new Dictionary<string, string?>
            {
                ["error"] = error,
                ["error_description"] = context.Response.ErrorDescription,
            }));
            context.HandleRequest();
            return ValueTask.CompletedTask;
        }
    }
}
