using AuthServer.Data;
using AuthServer.Data.Entities;
using AuthServer.DeviceFlow;
using AuthServer.Tokens;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;

namespace AuthServer.Protocol;

/// <summary>
/// The authorization code grant at the token endpoint (RFC 6749 §4.1.3, RFC 7636 §4.5–4.6). A code redeems once; a
/// second attempt revokes what the first one issued (RFC 6749 §4.1.2), since it means the code leaked.
/// </summary>
public sealed class AuthorizationCodeGrant(
    AuthServerDbContext db,
    UserManager<ApplicationUser> users,
    TokenIssuer issuer,
    TimeProvider clock,
    ILogger<AuthorizationCodeGrant> logger)
{
    private static readonly OAuthError Invalid = OAuthError.InvalidGrant("The authorization code is not valid.");

    public async Task<IResult> HandleAsync(HttpContext context, ProtocolRequest request, Client client, DpopProof? dpop)
    {
        var cancellationToken = context.RequestAborted;
        var presented = request["code"];
        var redirectUri = request["redirect_uri"];
        var verifier = request["code_verifier"];
        if (presented is null || redirectUri is null)
            return OAuthError.InvalidRequest("code and redirect_uri are required.");
        if (verifier is null)
            return OAuthError.InvalidRequest("code_verifier is required (PKCE).");

        var hash = OpaqueSecret.Hash(presented);
        var code = await db.AuthorizationCodes.AsNoTracking().FirstOrDefaultAsync(c => c.CodeHash == hash, cancellationToken);
        if (code is null || code.ClientId != client.ClientId)
            return Invalid;
        if (code.RedeemedAt is not null)
            return await RevokeReplayedAsync(code, cancellationToken);

        var now = clock.GetUtcNow();
        if (now >= code.ExpiresAt)
            return OAuthError.InvalidGrant("The authorization code has expired.");
        // §4.1.3: the same redirect_uri as in the authorization request, compared exactly.
        if (!string.Equals(code.RedirectUri, redirectUri, StringComparison.Ordinal))
            return OAuthError.InvalidGrant("redirect_uri does not match the authorization request.");
        if (!Pkce.Verify(verifier, code.CodeChallenge))
            return OAuthError.InvalidGrant("code_verifier does not match the code challenge.");

        var user = await users.FindByIdAsync(code.UserId);
        if (user is null || await users.IsLockedOutAsync(user))
            return OAuthError.InvalidGrant("The account is not available.");

        await using var transaction = await db.BeginWriteAsync(cancellationToken);
        var device = LinkedDevices.Create(db, context, user.Id, client, code.DeviceName, now);
        var redeemed = await db.AuthorizationCodes
            .Where(c => c.Id == code.Id && c.RedeemedAt == null)
            .ExecuteUpdateAsync(s => s.SetProperty(c => c.RedeemedAt, now).SetProperty(c => c.LinkedDeviceId, device.Id), cancellationToken);
        if (redeemed == 0)
        {
            // A concurrent request redeemed it first: that is a replay too.
            await transaction.RollbackAsync(cancellationToken);
            db.ChangeTracker.Clear();
            var winner = await db.AuthorizationCodes.AsNoTracking().FirstAsync(c => c.Id == code.Id, cancellationToken);
            return await RevokeReplayedAsync(winner, cancellationToken);
        }

        var scopes = code.Scope.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        var (response, refresh) = issuer.Issue(context.Request, new TokenGrant(user, client, scopes, device, code.AuthTime, Nonce: code.Nonce, Jkt: dpop?.Jkt));
        if (refresh is not null) db.RefreshTokens.Add(refresh);
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return ProtocolResponse.Json(response);
    }

    /// <summary>
    /// RFC 6749 §4.1.2 / §10.5: a code used twice has leaked. Log out the device the first redemption created: its
    /// refresh tokens are revoked and its access tokens fail validation from now on.
    /// </summary>
    private async Task<IResult> RevokeReplayedAsync(AuthorizationCode code, CancellationToken cancellationToken)
    {
        if (code.LinkedDeviceId is { } deviceId
            && await LinkedDevices.LogOutAsync(db, deviceId, clock.GetUtcNow(), userId: null, cancellationToken))
            logger.LogWarning("Authorization code {CodeId} was presented again; revoked device {DeviceId}", code.Id, deviceId);
        return OAuthError.InvalidGrant("The authorization code has already been used.");
    }
}
