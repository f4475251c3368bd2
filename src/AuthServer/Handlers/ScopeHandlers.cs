using AuthServer.Clients;
using OpenIddict.Abstractions;
using OpenIddict.Server;
using static OpenIddict.Abstractions.OpenIddictConstants;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace AuthServer.Handlers;

/// <summary>
/// RFC 6749 §3.3 / §4.1.2.1 / §5.2, RFC 8628 §3.2: a scope the client may not ask for is <c>invalid_scope</c>.
/// OpenIddict answers that for unknown scopes, but <c>invalid_request</c> for a known one outside the client's
/// permissions; these handlers answer first, from the client's registered scopes.
/// </summary>
public static class ScopeHandlers
{
    private static bool RefuseScopesOutsideTheClients(BaseValidatingContext context, OpenIddictRequest request, ClientStore clients)
    {
        if (clients.Find(request.ClientId) is not { } client) return false;
        if (request.GetScopes().All(client.Scopes.Contains)) return false;
        context.Reject(Errors.InvalidScope, "A requested scope is unknown or not allowed for this client.");
        return true;
    }

    public sealed class AtDeviceAuthorization(ClientStore clients) : IOpenIddictServerHandler<ValidateDeviceAuthorizationRequestContext>
    {
        public static OpenIddictServerHandlerDescriptor Descriptor { get; } = OpenIddictServerHandlerDescriptor.CreateBuilder<ValidateDeviceAuthorizationRequestContext>()
            .UseSingletonHandler<AtDeviceAuthorization>()
            .SetOrder(OpenIddictServerHandlers.Device.ValidateScopePermissions.Descriptor.Order - 1)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build();

        public ValueTask HandleAsync(ValidateDeviceAuthorizationRequestContext context)
        {
            RefuseScopesOutsideTheClients(context, context.Request, clients);
            return ValueTask.CompletedTask;
        }
    }

    public sealed class AtAuthorization(ClientStore clients) : IOpenIddictServerHandler<ValidateAuthorizationRequestContext>
    {
        public static OpenIddictServerHandlerDescriptor Descriptor { get; } = OpenIddictServerHandlerDescriptor.CreateBuilder<ValidateAuthorizationRequestContext>()
            .UseSingletonHandler<AtAuthorization>()
            .SetOrder(OpenIddictServerHandlers.Authentication.ValidateScopePermissions.Descriptor.Order - 1)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build();

        public ValueTask HandleAsync(ValidateAuthorizationRequestContext context)
        {
            RefuseScopesOutsideTheClients(context, context.Request, clients);
            return ValueTask.CompletedTask;
        }
    }
}
