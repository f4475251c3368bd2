using System.ComponentModel.DataAnnotations;
using System.Runtime.ExceptionServices;
using AuthServer.Data.Entities;
using Microsoft.Extensions.Options;
using OpenIddict.Abstractions;
using OpenIddict.Core;

namespace AuthServer.Data.Stores;

/// <summary>
/// OpenIddict's token manager with two shortcuts.
/// <para>
/// Before it decrypts a token that is not a JWT, OpenIddict looks the
/// whole string up as a reference identifier, in case it is one; every refresh token and authorization code (Data
/// Protection tokens, hundreds of characters) cost a query that could never find anything. The identifiers OpenIddict
/// hands out are 43-character random strings (reference tokens, device codes) or user codes, so a longer string is
/// answered "not found" without asking the database.
/// </para>
/// <para>
/// Every write of a token with a reference identifier (each device code and user code, RFC 8628 §3.2) was preceded by
/// a lookup of that identifier, to refuse a duplicate. The database refuses one already: the reference identifier's
/// column has a unique index (OpenIddict's EF model), so a duplicate fails its write, where the lookup left a window
/// between the check and the write anyway. Device codes' identifiers are 256 random bits; user codes, which are short,
/// are still checked against existing ones by OpenIddict before one is chosen (RFC 8628 §6.1).
/// </para>
/// </summary>
public sealed class TokenManager(IOpenIddictTokenCache<Token> cache, ILogger<OpenIddictTokenManager<Token>> logger,
    IOptionsMonitor<OpenIddictCoreOptions> options, IOpenIddictTokenStore<Token> store)
    : OpenIddictTokenManager<Token>(cache, logger, options, store)
{
    /// <summary>Above any identifier OpenIddict generates, far below a Data Protection token.</summary>
    public const int MaxReferenceIdLength = 100;

    public override ValueTask<Token?> FindByReferenceIdAsync(string identifier, CancellationToken cancellationToken = default) =>
        identifier is { Length: > MaxReferenceIdLength } ? ValueTask.FromResult<Token?>(null) : base.FindByReferenceIdAsync(identifier, cancellationToken);

    // OpenIddict's Try* methods answer false for any failed write, and the token endpoint then says the code was
    // already redeemed (invalid_grant): a final answer, so an RFC 8628 client gives up on a login that an outage of a
    // few seconds only delayed. A database outage is rethrown instead; the request answers 503 with Retry-After
    // (Hosting/DatabaseOutage) and the client polls again. The manager is scoped, so the outage seen is this request's.
    private ExceptionDispatchInfo? _outage;

    public override async ValueTask UpdateAsync(Token token, CancellationToken cancellationToken = default)
    {
        try
        {
            await base.UpdateAsync(token, cancellationToken);
        }
        catch (Exception error) when (Hosting.DatabaseOutage.IsOutage(error))
        {
            _outage = ExceptionDispatchInfo.Capture(error);
            throw;
        }
    }

    public override async ValueTask<bool> TryRedeemAsync(Token token, CancellationToken cancellationToken = default)
    {
        if (await base.TryRedeemAsync(token, cancellationToken) || ThrowOutage()) return true;
        LostRedemption = token.Id;
        return false;
    }

    /// <summary>
    /// The token whose redemption this request lost to another write of its row, or null. OpenIddict goes on with a
    /// refresh grant whose redemption failed; <see cref="Handlers.RefreshReuseHandlers.RefuseRevokedDuringGrant"/> looks.
    /// </summary>
    public string? LostRedemption { get; private set; }

    public override async ValueTask<bool> TryRevokeAsync(Token token, CancellationToken cancellationToken = default) =>
        await base.TryRevokeAsync(token, cancellationToken) || ThrowOutage();

    public override async ValueTask<bool> TryRejectAsync(Token token, CancellationToken cancellationToken = default) =>
        await base.TryRejectAsync(token, cancellationToken) || ThrowOutage();

    /// <summary>False (a lost race) unless the write failed for an outage, which is rethrown.</summary>
    private bool ThrowOutage()
    {
        if (Interlocked.Exchange(ref _outage, null) is { } outage) outage.Throw();
        return false;
    }

    /// <summary>The checks of a token's consistency that need no query; its reference identifier's uniqueness is the index's.</summary>
    public override IAsyncEnumerable<ValidationResult> ValidateAsync(Token token, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(token);
        List<ValidationResult> problems = [];
        if (string.IsNullOrEmpty(token.Type)) problems.Add(new ValidationResult("The token type cannot be null or empty."));
        if (string.IsNullOrEmpty(token.Status)) problems.Add(new ValidationResult("The token status cannot be null or empty."));
        return problems.ToAsyncEnumerable();
    }
}
