using AuthServer.Data.Entities;
using AuthServer.Data.Stores;
using OpenIddict.Abstractions;
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
            .SetOrder(OpenIddictServerHandlers.Protection.CreateTokenEntry.Descriptor.Order - 2)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build();

        public ValueTask HandleAsync(GenerateTokenContext context)
        {
            if (context.TokenType == TokenTypeIdentifiers.IdentityToken) context.CreateTokenEntry = false;
            return ValueTask.CompletedTask;
        }
    }

    /// <summary>
    /// One INSERT for a token whose payload is stored with it (device codes, user codes, authorization codes: RFC 8628
    /// §3.2, RFC 6749 §4.1.2). OpenIddict creates the row first, to give the token its id, then generates the token and
    /// writes its payload and reference identifier into the row: an INSERT and an UPDATE. Here the created entry waits in
    /// the request's token store until its payload is attached, and is inserted whole; <see cref="WriteDeferredEntry"/>
    /// writes it at the end of the token's generation in any case, so no entry outlives the generation unwritten.
    /// </summary>
    public sealed class DeferEntryUntilPayload(IOpenIddictTokenStore<Token> store) : IOpenIddictServerHandler<GenerateTokenContext>
    {
        public static OpenIddictServerHandlerDescriptor Descriptor { get; } = OpenIddictServerHandlerDescriptor.CreateBuilder<GenerateTokenContext>()
            .UseScopedHandler<DeferEntryUntilPayload>()
            .SetOrder(OpenIddictServerHandlers.Protection.CreateTokenEntry.Descriptor.Order - 1)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build();

        public ValueTask HandleAsync(GenerateTokenContext context)
        {
            // Only when OpenIddict will attach the payload (its AttachTokenPayload runs for exactly these tokens); set
            // either way, so a generation that was cut short leaves nothing behind for the next.
            ((TokenStore)store).DeferNextCreate(context.CreateTokenEntry && context.PersistTokenPayload);
            return ValueTask.CompletedTask;
        }
    }

    /// <summary>Writes the entry <see cref="DeferEntryUntilPayload"/> held back, if its payload never came.</summary>
    public sealed class WriteDeferredEntry(IOpenIddictTokenStore<Token> store) : IOpenIddictServerHandler<GenerateTokenContext>
    {
        public static OpenIddictServerHandlerDescriptor Descriptor { get; } = OpenIddictServerHandlerDescriptor.CreateBuilder<GenerateTokenContext>()
            .UseScopedHandler<WriteDeferredEntry>()
            .SetOrder(OpenIddictServerHandlers.Protection.AttachTokenPayload.Descriptor.Order + 100)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build();

        public async ValueTask HandleAsync(GenerateTokenContext context) =>
            await ((TokenStore)store).WriteDeferredAsync(context.CancellationToken);
    }
}
