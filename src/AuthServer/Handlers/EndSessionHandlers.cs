using AuthServer.Hosting;
using Microsoft.AspNetCore;
using OpenIddict.Server;
using OpenIddict.Server.AspNetCore;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace AuthServer.Handlers;

/// <summary>RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0), which OpenIddict validates.</summary>
public static class EndSessionHandlers
{
    /// <summary>
    /// §3: a <c>post_logout_redirect_uri</c> is only honoured for a client the request names (by <c>client_id</c> or
    /// the ID token hint's audience). OpenIddict would look the address up among every client's; naming none is refused.
    /// </summary>
    public sealed class RequireTheClientForARedirect : IOpenIddictServerHandler<ValidateEndSessionRequestContext>
    {
        public static OpenIddictServerHandlerDescriptor Descriptor { get; } = OpenIddictServerHandlerDescriptor.CreateBuilder<ValidateEndSessionRequestContext>()
            .UseSingletonHandler<RequireTheClientForARedirect>()
            .SetOrder(OpenIddictServerHandlers.Session.ValidatePostLogoutRedirectUriParameter.Descriptor.Order + 1)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build();

        public ValueTask HandleAsync(ValidateEndSessionRequestContext context)
        {
            if (context.Request.PostLogoutRedirectUri is not null && context.Request.ClientId is null && context.Request.IdTokenHint is null)
                context.Reject(OpenIddict.Abstractions.OpenIddictConstants.Errors.InvalidRequest,
                    "A return address needs the application it belongs to: send client_id or id_token_hint.");
            return ValueTask.CompletedTask;
        }
    }

    /// <summary>
    /// A logout request OpenIddict refused (an ID token hint we did not issue, a return address not registered for the
    /// client, §2–3) cannot go back anywhere: the user sees why on a page, stays signed in, and nobody is redirected.
    /// </summary>
    public sealed class ShowErrorsOnPage : IOpenIddictServerHandler<ApplyEndSessionResponseContext>
    {
        public static OpenIddictServerHandlerDescriptor Descriptor { get; } = OpenIddictServerHandlerDescriptor.CreateBuilder<ApplyEndSessionResponseContext>()
            .AddFilter<OpenIddictServerAspNetCoreHandlerFilters.RequireHttpRequest>()
            .UseSingletonHandler<ShowErrorsOnPage>()
            .SetOrder(int.MinValue + 100_000)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build();

        public async ValueTask HandleAsync(ApplyEndSessionResponseContext context)
        {
            if (context.Response.Error is not { } error) return;
            var http = context.Transaction.GetHttpRequest()!.HttpContext;
            context.HandleRequest();
            var description = context.Response.ErrorDescription ?? "The sign-out request is not valid.";
            if (!ErrorPage.IsWanted(http.Request))
            {
                // An application calling without a browser gets the RFC 6749 §5.2 shape, like every protocol endpoint.
                http.Response.StatusCode = StatusCodes.Status400BadRequest;
                http.Response.Headers.CacheControl = "no-store";
                await http.Response.WriteAsJsonAsync(new Dictionary<string, string> { ["error"] = error, ["error_description"] = description });
                return;
            }
            await ErrorPage.WriteAsync(http, StatusCodes.Status400BadRequest, "Sign-out problem", description,
                "You are still signed in. Go back to the application and try again.");
        }
    }
}
