using OpenIddict.Server;
using static OpenIddict.Abstractions.OpenIddictConstants;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace AuthServer.Handlers;

/// <summary>Which tokens get a row in the token table.</summary>
public static class TokenStorageHandlers
{
    /// <summary>
    /// An ID token is a statement to the client about the sign-in (OIDC Core §2), never a credential: nothing accepts
    /// it for access, and it cannot be revoked (RFC 7009 covers access and refresh tokens). Its row would only be
    /// written, one more INSERT per grant, and pruned. Without a row it carries no token id, so a later
    /// <c>id_token_hint</c> is still validated by signature, issuer and audience.
    /// </summary>
    public sealed class NoRowForIdentityTokens : IOpenIddictServerHandler<GenerateTokenContext>
    {
        public static OpenIddictServerHandlerDescriptor Descriptor { get; } = OpenIddictServerHandlerDescriptor.CreateBuilder<GenerateTokenContext>()
            .UseSingletonHandler<NoRowForIdentityTokens>()
            .SetOrder(OpenIddictServerHandlers.Protection.CreateTokenEntry.Descriptor.Order - 1)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build();

        public ValueTask HandleAsync(GenerateTokenContext context)
        {
            if (context.TokenType == TokenTypeIdentifiers.IdentityToken) context.CreateTokenEntry = false;
            return ValueTask.CompletedTask;
        }
    }
}
