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
    /// RFC 7636 §4.2: an S256 challenge is the base64url SHA-256 of the verifier, 43 characters of that alphabet.
    /// OpenIddict takes any string; a malformed one could never match a verifier, so it is refused up front.
    /// </summary>
    public sealed class ValidateCodeChallengeFormat : IOpenIddictServerHandler<ValidateAuthorizationRequestContext>
    {
        public static OpenIddictServerHandlerDescriptor Descriptor { get; } = OpenIddictServerHandlerDescriptor.CreateBuilder<ValidateAuthorizationRequestContext>()
            .UseSingletonHandler<ValidateCodeChallengeFormat>()
            .SetOrder(OpenIddictServerHandlers.Authentication.ValidateProofKeyForCodeExchangeParameters.Descriptor.Order + 1)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build();

        public ValueTask HandleAsync(ValidateAuthorizationRequestContext context)
        {
            if (context.Request.CodeChallenge is { } challenge
                && (challenge.Length != 43 || !challenge.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_')))
                context.Reject(OpenIddict.Abstractions.OpenIddictConstants.Errors.InvalidRequest,
                    "code_challenge must be the base64url SHA-256 of the code verifier (RFC 7636 §4.2).");
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
