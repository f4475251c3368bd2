using OpenIddict.Abstractions;
using OpenIddict.Server;
using static OpenIddict.Abstractions.OpenIddictConstants;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace AuthServer.Handlers;

/// <summary>Token revocation (RFC 7009), which OpenIddict answers.</summary>
public static class RevocationHandlers
{
    /// <summary>
    /// RFC 7009 §2.1: revoking a refresh token should also end the access tokens of the same grant. A grant is a
    /// linked device here, so revoking its refresh token logs the device out; OpenIddict alone would revoke only that
    /// one token.
    /// </summary>
    public sealed class LogOutTheDevice(Data.AuthServerDbContext db, IOpenIddictAuthorizationManager authorizations, IOpenIddictTokenManager tokens)
        : IOpenIddictServerHandler<HandleRevocationRequestContext>
    {
        public static OpenIddictServerHandlerDescriptor Descriptor { get; } = OpenIddictServerHandlerDescriptor.CreateBuilder<HandleRevocationRequestContext>()
            .UseScopedHandler<LogOutTheDevice>()
            .SetOrder(OpenIddictServerHandlers.Revocation.RevokeToken.Descriptor.Order + 1_000)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build();

        public async ValueTask HandleAsync(HandleRevocationRequestContext context)
        {
            if (context.IsRejected || context.GenericTokenPrincipal is not { } principal
                || !principal.HasTokenType(TokenTypeIdentifiers.RefreshToken) || principal.GetAuthorizationId() is not { } deviceId)
                return;
            await Tokens.LinkedDevices.EndAsync(db, authorizations, tokens, deviceId, context.CancellationToken);
        }
    }
}
