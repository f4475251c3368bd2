using AuthServer.Hosting;
using Microsoft.AspNetCore;
using OpenIddict.Abstractions;
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
                context.Reject(OpenIddict.Abstractions.OpenIddictConstants.Errors.InvalidRequest, UnregisteredReturnAddress);
            return ValueTask.CompletedTask;
        }
    }

    public const string UnregisteredReturnAddress = "The application asked to return to an address that is not registered for it.";

    /// <summary>
    /// The ID token hint names the application the user signed in to; a <c>client_id</c> naming another one makes the
    /// request contradict itself (§2), and it is refused before the return address is looked up.
    /// </summary>
    public sealed class RequireOneApplication : IOpenIddictServerHandler<ValidateEndSessionRequestContext>
    {
        public static OpenIddictServerHandlerDescriptor Descriptor { get; } = OpenIddictServerHandlerDescriptor.CreateBuilder<ValidateEndSessionRequestContext>()
            .UseSingletonHandler<RequireOneApplication>()
            .SetOrder(OpenIddictServerHandlers.Session.ValidateAuthentication.Descriptor.Order + 1)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build();

        public ValueTask HandleAsync(ValidateEndSessionRequestContext context)
        {
            if (context.Request.ClientId is { } clientId && context.IdentityTokenHintPrincipal is { } hint
                && !hint.GetAudiences().Contains(clientId) && !hint.GetPresenters().Contains(clientId))
                context.Reject(OpenIddict.Abstractions.OpenIddictConstants.Errors.InvalidRequest, "The sign-out request names two different applications.");
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
            // OpenIddict's words for an unregistered address, in the user's.
            if (description.Contains("post_logout_redirect_uri", StringComparison.Ordinal)) description = UnregisteredReturnAddress;
            if (http.Request.Headers.Accept.ToString().Contains("application/json", StringComparison.OrdinalIgnoreCase))
            {
                // An application that asks for JSON gets the RFC 6749 §5.2 shape; the user's browser gets a page.
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
