using AuthServer.Data;
using AuthServer.Data.Entities;
using AuthServer.DeviceFlow;
using AuthServer.Tokens;

namespace AuthServer.Protocol;

/// <summary>
/// The device code grant at the token endpoint (RFC 8628 §3.4–3.5). A pending poll is answered from memory: one hash,
/// one lookup, no write, and no database context or user manager even constructed (they are resolved only for a miss
/// or a redemption). Only the approved poll touches the database, and only one poll can redeem.
/// </summary>
public sealed class DeviceCodeGrant(LiveRequestCache cache, TimeProvider clock)
{
    // §3.5 error codes, answered with 400 like every other token error.
    private static readonly OAuthError Pending = new("authorization_pending", "The user has not yet approved the request.");
    private static readonly OAuthError SlowDown = new("slow_down", "Polling too fast: add 5 seconds to the interval.");
    private static readonly OAuthError Denied = new("access_denied", "The user denied the request.");
    private static readonly OAuthError Expired = new("expired_token", "The device code has expired: start a new request.");
    private static readonly OAuthError Superseded = new("expired_token", "The device code was replaced by a newer request.");
    public static readonly OAuthError WrongDpopKey =
        OAuthError.InvalidDpopProof("This login request is bound to a DPoP key: send a proof made with it.");
    private static readonly OAuthError Redeemed = OAuthError.InvalidGrant("The device code has already been used.");

    public async Task<IResult> HandleAsync(HttpContext context, ProtocolRequest request, Client client, DpopProof? dpop)
    {
        var deviceCode = request["device_code"];
        if (string.IsNullOrEmpty(deviceCode))
            return OAuthError.InvalidRequest("device_code is required.");

        var live = cache.Find(OpaqueSecret.Hash(deviceCode))
            ?? await context.RequestServices.GetRequiredService<DeviceFlowService>().FindByDeviceCodeAsync(deviceCode, context.RequestAborted);
        if (live is null)
            return OAuthError.InvalidGrant("The device code is not valid.");

        // §3.4: the code must have been issued to this client. Same answer as an unknown code: another client learns
        // nothing about it.
        var state = live.State;
        if (state.ClientId != client.ClientId)
            return OAuthError.InvalidGrant("The device code is not valid.");

        // Bound from the start: a leaked device code is useless without the screen's private key.
        if (!state.AcceptsProofFrom(dpop?.Jkt)) return WrongDpopKey;

        var now = clock.GetUtcNow();
        if (Finished(state, now) is { } finished) return finished;

        if (state.Status == DeviceAuthorizationStatus.Approved)
            return await RedeemAsync(context, client, state, dpop);

        // Still pending or scanned. Only here can a client be slowed down: a poll that finds the request approved
        // always gets its tokens, however soon it came.
        return live.RecordPendingPoll(now) ? SlowDown : Pending;
    }

    /// <summary>The answer for a request that can no longer lead to tokens, or null.</summary>
    private static OAuthError? Finished(DeviceAuthorizationState state, DateTimeOffset now) => state.Status switch
    {
        DeviceAuthorizationStatus.Redeemed => Redeemed,
        DeviceAuthorizationStatus.Superseded => Superseded,
        DeviceAuthorizationStatus.Denied => Denied,
        _ when state.IsExpired(now) => Expired,
        _ => null,
    };

    private async Task<IResult> RedeemAsync(HttpContext context, Client client, DeviceAuthorizationState state, DpopProof? dpop)
    {
        var cancellationToken = context.RequestAborted;
        var services = context.RequestServices;
        var flow = services.GetRequiredService<DeviceFlowService>();
        var issuer = services.GetRequiredService<TokenIssuer>();
        var gate = services.GetRequiredService<SqliteWriteGate>();
        var lanes = services.GetRequiredService<SqliteLanes>();
        var now = clock.GetUtcNow();

        // The account may have been deleted or locked between approval and this poll. A lane is held only while
        // statements run, never while signing.
        ApplicationUser? user;
        using (var reading = await lanes.RentAsync(cancellationToken))
            user = state.SubjectId is null ? null : GrantSql.FindUser(reading, state.SubjectId);
        if (user is null || Accounts.IsLockedOut(user, now))
            return OAuthError.InvalidGrant("The account that approved this request is not available.");

        // The tokens are signed before the transaction, so the single writer is held only for the statements; a poll
        // that loses the race below throws its tokens away unsent.
        var device = LinkedDevices.New(context, user.Id, client, state.DeviceName, now);
        var (response, refresh) = issuer.Issue(context.Request, new TokenGrant(user, client, state.Scopes, device, state.DecidedAt ?? now, Jkt: dpop?.Jkt));

        // One transaction: the linked device, the move to Redeemed and the refresh token exist together or not at all.
        // The conditional UPDATE decides: of any number of concurrent polls exactly one moves the request to
        // Redeemed; the others roll back and are told the code is used.
        DeviceAuthorizationState? redeemed;
        using (await gate.EnterAsync(cancellationToken))
        using (var lane = await lanes.RentAsync(cancellationToken))
        {
            lane.Begin();
            GrantSql.InsertLinkedDevice(lane, device);
            redeemed = DeviceAuthorizationSql.Redeem(lane, state.Id, device.Id, now);
            if (redeemed is null)
            {
                lane.Rollback();
            }
            else
            {
                if (refresh is not null) GrantSql.InsertRefreshToken(lane, refresh);
                lane.Commit();
            }
        }

        if (redeemed is null)
        {
            var fresh = await flow.ReloadAsync(state.Id, cancellationToken);
            return (fresh is null ? null : Finished(fresh, clock.GetUtcNow())) ?? Redeemed;
        }
        flow.Publish(redeemed);
        return ProtocolResponse.Json(response);
    }
}
