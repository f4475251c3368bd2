using AuthServer.Data.Entities;
using Microsoft.Extensions.Options;
using OpenIddict.Abstractions;
using OpenIddict.Core;

namespace AuthServer.Data.Stores;

/// <summary>
/// OpenIddict's token manager with one shortcut. Before it decrypts a token that is not a JWT, OpenIddict looks the
/// whole string up as a reference identifier, in case it is one; every refresh token and authorization code (Data
/// Protection tokens, hundreds of characters) cost a query that could never find anything. The identifiers OpenIddict
/// hands out are 43-character random strings (reference tokens, device codes) or user codes, so a longer string is
/// answered "not found" without asking the database.
/// </summary>
public sealed class TokenManager(IOpenIddictTokenCache<Token> cache, ILogger<OpenIddictTokenManager<Token>> logger,
    IOptionsMonitor<OpenIddictCoreOptions> options, IOpenIddictTokenStore<Token> store)
    : OpenIddictTokenManager<Token>(cache, logger, options, store)
{
    /// <summary>Above any identifier OpenIddict generates, far below a Data Protection token.</summary>
    public const int MaxReferenceIdLength = 100;

    public override ValueTask<Token?> FindByReferenceIdAsync(string identifier, CancellationToken cancellationToken = default) =>
        identifier is { Length: > MaxReferenceIdLength } ? ValueTask.FromResult<Token?>(null) : base.FindByReferenceIdAsync(identifier, cancellationToken);
}
